from zgen.cli import main

raise SystemExit(main())
