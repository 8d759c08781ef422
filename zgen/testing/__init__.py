"""`zgen test`: build an app, run it in a simulator on its recorded data, and
compare its event lines with `zgen simulate`. One runner per simulator."""
from zgen.testing.base import RUNNERS, SimRunner, get_runner  # noqa: F401
from zgen.testing import native_sim, qemu, renode  # noqa: F401,E402  (registers the runners)
