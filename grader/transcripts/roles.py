"""Give every turn a role: from its label, from diarised speaker ids, or, with no speakers at all,
from question cues and pauses."""

from __future__ import annotations

from collections import defaultdict

from dataclasses import dataclass, field

from grader.transcripts.cues import is_backchannel, is_small_talk, question_score
from grader.transcripts.models import RoleSource, SkippedItem, Turn

BEFORE_FIRST_SPEAKER = "speech before the first named speaker"

PAUSE_S = 1.5  # a silence this long before a half-sure question is taken as a change of speaker
STRONG = 0.7
WEAK = 0.5


@dataclass
class Resolved:
    turns: list[Turn]
    source: RoleSource
    warnings: list[str] = field(default_factory=list)
    skipped: list[SkippedItem] = field(default_factory=list)


def resolve_roles(turns: list[Turn]) -> Resolved:
    warnings: list[str] = []
    if not any(t.speaker for t in turns) and all(t.role == "unknown" for t in turns):
        warnings.append(
            "no speaker labels: who asked and who answered was reconstructed from question cues and pauses; "
            "check the pairs"
        )
        return Resolved(infer_from_cues(turns), "cues", warnings)

    source: RoleSource = "labels"
    speakers = _unmapped_speakers(turns)
    if len(speakers) == 1 and all(t.role == "unknown" for t in turns):
        # One diarised voice for the whole interview tells nothing about who asked.
        warnings.append(f"only one speaker id ({speakers[0]}): roles were reconstructed from question cues and pauses")
        return Resolved(infer_from_cues(turns), "cues", warnings)
    if speakers:
        mapping = _map_speakers(turns, speakers)
        source = "speakers"
        shown = ", ".join(f"{s} -> {r}" for s, r in mapping.items())
        warnings.append(f"speaker ids mapped to roles by who asks the questions: {shown}")
        turns = [t.model_copy(update={"role": mapping[t.speaker]}) if t.speaker in mapping else t for t in turns]
    # Unlabelled stretches inside a labelled file (a timestamped line, a cue with no speaker)
    # continue whoever spoke last; the text reader reports anything before the first label itself.
    out: list[Turn] = []
    skipped: list[SkippedItem] = []
    last = None
    for t in turns:
        if t.role == "unknown":
            if last is None:
                skipped.append(
                    SkippedItem(text=t.text, reason=BEFORE_FIRST_SPEAKER, source=t.source, start=t.start, end=t.end)
                )
                continue
            t = t.model_copy(update={"role": last})
        last = t.role
        out.append(t)
    return Resolved(out, source, warnings, skipped)


def _unmapped_speakers(turns: list[Turn]) -> list[str]:
    seen: dict[str, None] = {}
    for t in turns:
        if t.role == "unknown" and t.speaker:
            seen.setdefault(t.speaker)
    return list(seen)


def _map_speakers(turns: list[Turn], speakers: list[str]) -> dict[str, str]:
    """The speaker who asks the most questions is the interviewer; the one who asks the fewest,
    the candidate. A role already given by a label is not given twice."""
    present = {t.role for t in turns if t.role != "unknown"}
    if len(speakers) == 1 and len(present) == 1:
        return {speakers[0]: "candidate" if "interviewer" in present else "interviewer"}
    asked: dict[str, int] = defaultdict(int)
    spoke: dict[str, int] = defaultdict(int)
    for t in turns:
        if t.speaker in speakers:
            spoke[t.speaker] += 1
            asked[t.speaker] += question_score(t.text) >= WEAK
    share = {s: asked[s] / spoke[s] for s in speakers}
    ranked = sorted(speakers, key=lambda s: (-share[s], speakers.index(s)))
    mapping: dict[str, str] = {}
    if "interviewer" not in present:
        mapping[ranked[0]] = "interviewer"
    if "candidate" not in present and ranked[-1] not in mapping:
        mapping[ranked[-1]] = "candidate"
    for s in ranked:
        mapping.setdefault(s, "interviewer" if share[s] >= 0.35 else "candidate")
    return mapping


def infer_from_cues(turns: list[Turn]) -> list[Turn]:
    """Rebuild who spoke from the speech alone.

    The interviewer opens. After an interviewer's question the candidate answers; the candidate
    keeps the floor until something sounds clearly like a question (or half like one after a
    pause), or until a bare "好的/OK" leads into one.
    """
    roles: list[str] = []
    scores = [question_score(t.text) for t in turns]
    for i, t in enumerate(turns):
        if i == 0:
            roles.append("interviewer")
            continue
        prev, prev_role, q = turns[i - 1], roles[-1], scores[i]
        gap = t.start - prev.end if t.start is not None and prev.end is not None else None
        paused = gap is not None and gap >= PAUSE_S
        nxt = scores[i + 1] if i + 1 < len(turns) else 0.0
        if prev_role == "interviewer":
            if scores[i - 1] >= WEAK:
                # A second question straight after the first is the interviewer rephrasing.
                role = "interviewer" if q >= STRONG and not paused and not is_backchannel(prev.text) else "candidate"
            elif is_small_talk(prev.text) and not is_backchannel(prev.text):
                # "先做个自我介绍吧" asks for an answer as surely as a question mark does.
                role = "interviewer" if q >= STRONG else "candidate"
            elif is_backchannel(prev.text) or q >= WEAK or not paused:
                role = "interviewer"  # a lead-in ("好的，下一个问题。") runs on into the question
            else:
                role = "candidate"
        elif q >= STRONG or (q >= WEAK and paused):
            role = "interviewer"
        elif (is_backchannel(t.text) and nxt >= WEAK) or is_small_talk(t.text):
            role = "interviewer"
        else:
            role = "candidate"
        roles.append(role)
    return [t.model_copy(update={"role": r}) for t, r in zip(turns, roles)]
