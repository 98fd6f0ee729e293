"""Reports of a search (plots, HTML page, exports) -- and, called, :func:`hyperfleet.report`.

``hyperfleet.report(value, step=None)`` reports an intermediate value of the running training
(see :func:`hyperfleet.execute.reporting.report`). This package has the same name, so the
package object itself is callable and does exactly that.
"""

import sys as _sys
import types as _types


class _CallableModule(_types.ModuleType):
    def __call__(self, value, step=None) -> bool:
        """Report an intermediate value of the running training; False: stop it now (see
        :func:`hyperfleet.execute.reporting.report`)."""
        from hyperfleet.execute.reporting import report

        return report(value, step)


_sys.modules[__name__].__class__ = _CallableModule
