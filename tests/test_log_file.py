"""The search log is written without a flush per line, yet nothing waits long in the buffer."""

import logging
import time

from hyperfleet.log_file import LogFile


def _logged(path, interval):
    handler = LogFile(path, interval=interval)
    log = logging.getLogger(f"hf-test-{id(handler)}")
    log.propagate = False
    log.setLevel(logging.INFO)
    log.addHandler(handler)
    return log, handler


def test_lines_wait_in_the_buffer_warnings_are_written_at_once_and_all_at_close(tmp_path):
    path = tmp_path / "search.log"
    log, handler = _logged(path, interval=3600.0)
    try:
        for i in range(50):
            log.info("line %d", i)
        assert "line 49" not in path.read_text()  # not one write per line
        log.warning("a warning")
        assert "line 49" in path.read_text() and "a warning" in path.read_text()
        log.info("last line")
    finally:
        log.removeHandler(handler)
        handler.close()
    assert path.read_text().rstrip().endswith("last line")


def test_a_line_reaches_the_file_within_the_interval(tmp_path):
    path = tmp_path / "search.log"
    log, handler = _logged(path, interval=0.1)
    try:
        log.info("the only line")
        deadline = time.time() + 10
        while "the only line" not in path.read_text() and time.time() < deadline:
            time.sleep(0.02)
        assert "the only line" in path.read_text()
    finally:
        log.removeHandler(handler)
        handler.close()
