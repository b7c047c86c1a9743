{{- define "pvsfleet.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "pvsfleet.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "pvsfleet.selector" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* More than one API pod at any time: hub messages must cross replicas through Redis. */}}
{{- define "pvsfleet.scaledOut" -}}
{{- if or (gt (int .Values.api.replicaCount) 1) .Values.api.autoscaling.enabled -}}true{{- end -}}
{{- end -}}

{{- define "pvsfleet.redisConnection" -}}
{{- if .Values.redis.connectionString -}}
{{- .Values.redis.connectionString -}}
{{- else if and .Values.redis.enabled (include "pvsfleet.scaledOut" .) -}}
{{- printf "%s-redis:6379,abortConnect=false" (include "pvsfleet.fullname" .) -}}
{{- end -}}
{{- end -}}

{{- define "pvsfleet.databaseSecret" -}}
{{- default (printf "%s-database" (include "pvsfleet.fullname" .)) .Values.database.existingSecret -}}
{{- end -}}

{{- define "pvsfleet.authSecret" -}}
{{- default (printf "%s-auth" (include "pvsfleet.fullname" .)) .Values.auth.existingSecret -}}
{{- end -}}
