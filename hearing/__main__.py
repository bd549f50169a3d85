from hearing.cli import main

raise SystemExit(main())
