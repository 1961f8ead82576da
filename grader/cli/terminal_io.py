"""Reading a candidate's answers and menu choices: a real line editor (prompt_toolkit) in a
terminal, plain lines when input is piped."""

from __future__ import annotations

import sys
from pathlib import Path


class PromptTerminal:
    """Multi-line editing with arrow keys, history and bracketed paste; wide (CJK) characters and
    input methods are handled by prompt_toolkit. Esc then Enter (Alt-Enter in most terminals)
    submits; Ctrl-D on an empty answer quits; menu choices are single keys."""

    def __init__(self, input=None, output=None, history_path: Path | None = None):
        from prompt_toolkit.history import FileHistory, InMemoryHistory

        self.input = input
        self.output = output
        history = InMemoryHistory()
        if history_path is not None:
            try:
                history_path.parent.mkdir(parents=True, exist_ok=True)
                history_path.touch(exist_ok=True)
                history = FileHistory(str(history_path))
            except OSError:  # an unwritable data directory must not stop practice
                pass
        self._history = history
        self._session = None

    def _prompt_session(self):
        if self._session is None:
            from prompt_toolkit import PromptSession

            self._session = PromptSession(
                multiline=True, history=self._history, input=self.input, output=self.output,
                prompt_continuation=lambda width, line_no, wrap: "  ",
            )
        return self._session

    def read_answer(self, hint: str) -> str | None:
        """The answer as typed; None when the candidate quits (Ctrl-D on an empty answer)."""
        try:
            return self._prompt_session().prompt("> ", bottom_toolbar=hint)
        except EOFError:
            return None

    def key(self, text: str, keys: tuple[str, ...]) -> str:
        """One key press among `keys` (Enter picks the next question; Ctrl-D or Ctrl-C quits)."""
        from prompt_toolkit.application import Application
        from prompt_toolkit.key_binding import KeyBindings
        from prompt_toolkit.layout import FormattedTextControl, Layout, Window

        kb = KeyBindings()
        for k in keys:
            for variant in {k, k.upper()}:
                kb.add(variant)(lambda event, k=k: event.app.exit(result=k))
        kb.add("enter")(lambda event: event.app.exit(result="n"))
        kb.add("c-d")(lambda event: event.app.exit(result="q"))
        kb.add("c-c")(lambda event: event.app.exit(result="q"))
        app = Application(
            layout=Layout(Window(FormattedTextControl(text), height=1)),
            key_bindings=kb, input=self.input, output=self.output, full_screen=False,
        )
        return app.run()


class LineTerminal:
    """Piped input: an answer ends at a line holding only '.', or at the end of input; a menu
    choice is the first letter of a line."""

    END_MARK = "."

    def __init__(self, stream=None):
        self.stream = stream

    def _readline(self) -> str | None:
        stream = self.stream or sys.stdin
        raw = getattr(stream, "buffer", None)
        # Bytes that are not UTF-8 (a GBK pipe, input cut inside a character) are kept as
        # surrogates, which the answer's decoder turns back into bytes and decodes properly.
        line = raw.readline().decode("utf-8", "surrogateescape") if raw is not None else stream.readline()
        return None if line == "" else line.rstrip("\r\n")

    def read_answer(self, hint: str) -> str | None:
        lines: list[str] = []
        while True:
            line = self._readline()
            if line is None:
                return "\n".join(lines) if lines else None
            if line.strip() == self.END_MARK:
                return "\n".join(lines)
            lines.append(line)

    def key(self, text: str, keys: tuple[str, ...]) -> str:
        print(text, flush=True)
        line = self._readline()
        if line is None:
            return "q"
        choice = line.strip().lower()[:1]
        return choice if choice in keys else "n"
