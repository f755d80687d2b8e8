from fabrikit.kernel.cli import main

raise SystemExit(main())
