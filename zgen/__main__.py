import gc

from zgen.cli import GC_PACE, main

gc.set_threshold(*GC_PACE)  # this process runs one command: no need to restore the pace after it
raise SystemExit(main())
