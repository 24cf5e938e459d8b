"""The console scripts: thin layers over :mod:`caso.manager`."""
