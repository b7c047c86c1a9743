using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(PvsFleet.Collector.Benchmarks.DecoderBenchmarks).Assembly).Run(args);
