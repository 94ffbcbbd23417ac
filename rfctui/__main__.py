from rfctui.cli import main

raise SystemExit(main())
