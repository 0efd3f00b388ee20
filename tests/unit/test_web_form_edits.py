"""The web UI's edit controls: a removal's note is sent as its reason."""

from __future__ import annotations

from starlette.datastructures import FormData

from workflow.api.web import _edits_from_form


def test_a_removal_sends_its_note_as_the_reason() -> None:
    """Remove plus note gives remove with reason; a note alone stays a note."""
    form = FormData([("f0_id", "a@x"), ("f0_remove", "1"), ("f0_note", "covered elsewhere"),
                     ("f1_id", "b@y"), ("f1_note", "seen")])
    assert [{"id": "a@x", "remove": True, "reason": "covered elsewhere"},
            {"id": "b@y", "note": "seen"}] == _edits_from_form(form)
