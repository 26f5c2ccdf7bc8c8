"""The embedded Oxigraph store on disk: generations swapped in atomically, reading the served one, maintainers'
writes, export back to files, backup and restore. Never imports the build that fills it."""
