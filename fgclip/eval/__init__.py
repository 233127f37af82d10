"""Stage 3, evaluation: benchmark loaders (benchmarks/), one scorer per task type, a feature cache per checkpoint, results rows, the report and WiSE-FT interpolation."""
