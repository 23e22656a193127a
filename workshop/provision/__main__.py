"""`python -m workshop.provision`: provision the emulator from infra/template.yaml and write the registry (what infra/README.md names)."""

import sys

from workshop.provision.provisioner import main

sys.exit(main())
