"""Remote parties (interpreters, remote counsel, prosecutors, witnesses) by
one-time code through the external gateway, and interpretation modes.

Pure rules (no framework, no I/O) live apart from the services that use
them, as in hearing/custody/.
"""
