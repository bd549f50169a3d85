# Route tables are built when their modules are imported, and each names
# the `id` convertor in its paths: it is registered here, before any of
# them can be (hearing/web/paths.py says why it exists).
from hearing.web import paths

paths.register()
