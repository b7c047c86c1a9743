-- The estate of bench/estate-scale.sh: 25 sites, 2 collectors each, 100,000 target devices, and the function that
-- writes one day of sessions, phases and duration histogram with INSERT ... SELECT (no COPY, no ingest). Run on a
-- database the API has migrated (the partitioned schema), so the rows go through PostgreSQL's partition routing.
\set ON_ERROR_STOP on

INSERT INTO "Sites" ("Id", "Name", "CreatedAt")
SELECT s, format('estate-%s', lpad(s::text, 2, '0')), now() - interval '400 days' FROM generate_series(1, 25) s;
SELECT setval(pg_get_serial_sequence('"Sites"', 'Id'), 25);

-- Collector c (1..50) serves site (c + 1) / 2; the bench never sends as them, so the key hashes are placeholders.
INSERT INTO "Collectors" ("Id", "SiteId", "Name", "KeyHash", "KeyPrefix", "CreatedAt", "LastSequence", "PacketsReceived",
                          "PacketsDropped", "InterfaceDropped", "ActiveSessions", "SpooledEvents")
SELECT c, (c + 1) / 2, format('pvs-%s', c), encode(sha256(format('estate-%s', c)::bytea), 'hex'), format('est%s', c),
       now() - interval '400 days', 0, 0, 0, 0, 0, 0
FROM generate_series(1, 50) c;
SELECT setval(pg_get_serial_sequence('"Collectors"', 'Id'), 50);

-- Device d: site 1 + d % 25, MAC 52:54:xx:xx:xx:xx from d, a quarter of them BIOS, the rest UEFI.
INSERT INTO "Devices" ("Id", "Mac", "SiteId", "LastIp", "HostName", "Firmware", "FirstSeenAt", "LastSeenAt")
SELECT d, '52:54:' || substr(h, 1, 2) || ':' || substr(h, 3, 2) || ':' || substr(h, 5, 2) || ':' || substr(h, 7, 2),
       1 + d % 25, format('10.%s.%s.%s', 1 + d % 25, (d / 256) % 256, d % 256), format('VDA-%s', lpad(d::text, 6, '0')),
       CASE WHEN d % 4 = 0 THEN 1 ELSE 2 END, now() - interval '400 days', now() - interval '400 days'
FROM generate_series(1, 100000) d, LATERAL (SELECT lpad(to_hex(d), 8, '0') AS h) x;
SELECT setval(pg_get_serial_sequence('"Devices"', 'Id'), 100000);

\ir functions.sql
