"""gan_core.cli.entry_point: user errors and Ctrl-C become one line and an exit code, never a traceback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import ROOT

from gan_core import UserError
from gan_core.cli import NOTHING_WRITTEN, entry_point


def raising(exc: BaseException, **kwargs):
    @entry_point(**kwargs)
    def main(argv=None) -> int:
        raise exc

    return main


def test_user_error_is_one_line_and_exit_1(capsys):
    assert raising(UserError("no such folder: x"))() == 1
    captured = capsys.readouterr()
    assert captured.err == "error: no such folder: x\n" and captured.out == ""


def test_keyboard_interrupt_is_one_line_and_exit_130(capsys):
    assert raising(KeyboardInterrupt())() == 130
    assert capsys.readouterr().err == NOTHING_WRITTEN + "\n" == "interrupted: nothing was written\n"


def test_interrupted_message_is_per_script(capsys):
    assert raising(KeyboardInterrupt(), interrupted="interrupted: some images may be written")() == 130
    assert capsys.readouterr().err == "interrupted: some images may be written\n"


def test_return_value_arguments_and_name_pass_through(capsys):
    @entry_point()
    def main(argv=None) -> int:
        """Doc."""
        print(f"argv {argv}")
        return 3 if argv else 0

    assert main() == 0 and main(["--x"]) == 3 and main(argv=["--x"]) == 3
    assert main.__name__ == "main" and main.__doc__ == "Doc."
    assert capsys.readouterr() == ("argv None\nargv ['--x']\nargv ['--x']\n", "")


def test_other_exceptions_and_argparse_exits_are_not_swallowed(capsys):
    with pytest.raises(ValueError, match="a bug"):
        raising(ValueError("a bug"))()
    with pytest.raises(SystemExit) as exit_info:  # argparse errors keep their exit code 2
        raising(SystemExit(2))()
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == ""


def test_bare_decorator_fails_at_definition():
    with pytest.raises(TypeError):
        @entry_point
        def main(argv=None) -> int:
            return 0


# Runs a script as __main__ with Python's own SIGINT handler installed and SIGINT unblocked first: a
# child of a non-interactive background job inherits SIGINT ignored, a child inherits its parent
# thread's signal mask across exec (a blocked SIGINT would stay pending forever), and preexec_fn (the
# other way to reset both) is unsafe once the test process has threads (TensorFlow's, from earlier tests).
RUN_WITH_SIGINT = ("import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
                   "signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGINT]); "
                   "sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')")


def sigint_blocked(pid: int) -> bool:
    """Whether SIGINT is in the process's blocked mask (/proc/PID/status SigBlk, a hex bit set)."""
    line = next(x for x in open(f"/proc/{pid}/status") if x.startswith("SigBlk:"))
    return bool(int(line.split()[1], 16) >> (signal.SIGINT - 1) & 1)


@pytest.mark.slow
def test_sigint_while_working_exits_130_with_one_line(tmp_path):
    """scripts/results_table.py (no Ctrl-C handling before gan_core.cli) blocked reading a FIFO gets SIGINT.

    No sleeps decide the outcome: opening the FIFO's write end without blocking succeeds only once
    the script has it open for reading, and holding that end open (writing nothing) keeps the
    script inside its work until the signal arrives.
    """
    fifo = tmp_path / "results.json"
    os.mkfifo(fifo)
    proc = subprocess.Popen([sys.executable, "-c", RUN_WITH_SIGINT, str(ROOT / "scripts" / "results_table.py"),
                             f"real={fifo}"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    writer = None
    try:
        deadline = time.monotonic() + 120
        while writer is None:
            try:
                writer = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:  # ENXIO: the script has not opened it yet
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline, "the script never opened the FIFO"
                time.sleep(0.05)
        # One thread: the signal reaches the thread blocked in read(), which then raises KeyboardInterrupt.
        assert len(os.listdir(f"/proc/{proc.pid}/task")) == 1
        assert not sigint_blocked(proc.pid)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        if writer is not None:
            os.close(writer)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert err == "interrupted: nothing was written\n" and out == ""
