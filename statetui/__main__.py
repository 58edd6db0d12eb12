from statetui.cli import main

raise SystemExit(main())
