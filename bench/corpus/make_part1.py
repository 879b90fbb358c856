"""Write bench/corpus/part1/*.py: the style bases as written, and each wrong variant as its base plus
the edits a student made, with the header the judge decides.

The bases (bench/corpus/bases/) are four ways students really write part 1: CS231n's naive loops,
deeplearning.ai's channels-last "step by step" functions behind NCHW wrappers, im2col with index
arrays, and as_strided windows with einsum. `# <<GIVEN>>` stands for the handout's Parameter and
Module classes, which every submission keeps. A variant lists (old, new) edits, each of which must
match exactly once; its `bugs` are what the edit means, its `items` are what the judge finds.

    .venv/bin/python bench/corpus/make_part1.py          # rewrite part1/ and print each verdict
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import judge  # noqa: E402
from variants import VARIANTS  # noqa: E402

TEMPLATE = judge.ROOT / "student_template" / "cnn" / "cnn_layers.py"


def given() -> str:
    text = TEMPLATE.read_text()
    return text[text.index("class Parameter:"):text.index("class Conv2d(Module):")].rstrip() + "\n"


def build(name, base, edits):
    text = (HERE / "bases" / f"{base}.py").read_text().replace("# <<GIVEN>>\n", given())
    for old, new in edits:
        count = text.count(old)
        if count != 1:
            raise SystemExit(f"{name}: edit matches {count} times: {old!r}")
        text = text.replace(old, new)
    return text


def main():
    out = HERE / "part1"
    out.mkdir(exist_ok=True)
    for old in out.glob("*.py"):
        old.unlink()
    problems = 0
    for name, (style, base, bugs, expected, edits) in VARIANTS.items():
        path = out / f"{name}.py"
        body = build(name, base, edits)
        path.write_text(body)
        wrong = judge.wrong_items(judge.judge(path))
        header = f"# corpus: style={style}; bugs={','.join(bugs)}; items={','.join(wrong)}\n"
        path.write_text(header + body)
        note = "" if sorted(wrong) == sorted(expected) else f"   (expected {','.join(expected) or 'none'})"
        problems += bool(note)
        print(f"{name:45s} {','.join(wrong) or '-'}{note}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
