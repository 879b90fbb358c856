"""Write bench/corpus/capstone/*.py: a student's capstone.py (the handout's given code around the
pieces in capstone_bases/pieces.py, written as CS231n students write them) and its wrong variants,
each with the header judge_capstone.py decides. A graded submission is the file as capstone.py
beside a correct first part (judge_capstone.LAYERS).

    .venv/bin/python bench/corpus/make_capstone.py
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import judge_capstone  # noqa: E402

SOURCE = judge_capstone.ROOT / "solutions" / "cnn_capstone" / "capstone.py"
START = "# ---------------------------------------------------------------------------\n# You write: the layers"
END = "# ---------------------------------------------------------------------------\n# Given: the networks"

ADAM_T = "        self.t += 1\n"
ADAM_UPDATE = "            p.data = p.data - self.lr * mt / (np.sqrt(vt) + self.eps)"
VARIANTS = {
    "capstone_ok": ([], []),
    "adam_step_count_off_by_one": (["adam_step_off_by_one"], [
        ("        self.t = 0\n", "        self.t = 1\n")]),
    "adam_step_count_never_incremented": (["adam_step_not_incremented"], [
        ("        self.t = 0\n", "        self.t = 1\n"), (ADAM_T, "")]),
    "adam_eps_inside_sqrt": (["adam_eps_inside_sqrt"], [
        (ADAM_UPDATE, "            p.data = p.data - self.lr * mt / np.sqrt(vt + self.eps)")]),
    "adam_no_power_t": (["adam_no_power_t"], [
        ("            mt = self.m[i] / (1 - self.beta1 ** self.t)\n            vt = self.v[i] / (1 - self.beta2 ** self.t)",
         "            mt = self.m[i] / (1 - self.beta1)\n            vt = self.v[i] / (1 - self.beta2)")]),
    "relu_gradient_at_zero": (["relu_passes_at_zero"], [
        ("        dx[self.x <= 0] = 0", "        dx[self.x < 0] = 0")]),
    "softmax_log_of_underflowed_p": (["softmax_log_underflow"], [
        ("    log_probs = shifted_logits - np.log(Z)\n    probs = np.exp(log_probs)\n"
         "    loss = -np.sum(log_probs[np.arange(N), labels]) / N",
         "    probs = np.exp(shifted_logits) / Z\n    loss = -np.sum(np.log(probs[np.arange(N), labels])) / N")]),
    "softmax_no_max_shift": (["softmax_no_max_subtraction"], [
        ("    shifted_logits = logits - np.max(logits, axis=1, keepdims=True)", "    shifted_logits = logits")]),
    "linear_grads_batch_mean": (["batch_mean"], [
        ("        self.W.grad += self.x.T.dot(dout)\n        self.b.grad += np.sum(dout, axis=0)",
         "        self.W.grad += self.x.T.dot(dout) / dout.shape[0]\n        self.b.grad += np.mean(dout, axis=0)")]),
    "loss_gradient_summed_over_batch": (["loss_gradient_not_averaged"], [
        ("    dx /= N\n", "")]),
}


def main():
    text = SOURCE.read_text()
    pieces = (HERE / "capstone_bases" / "pieces.py").read_text()
    base = text[:text.index(START)] + pieces + text[text.index(END):]
    out = HERE / "capstone"
    out.mkdir(exist_ok=True)
    for old in out.glob("*.py"):
        old.unlink()
    for name, (bugs, edits) in VARIANTS.items():
        body = base
        for old, new in edits:
            if body.count(old) != 1:
                raise SystemExit(f"{name}: edit matches {body.count(old)} times: {old!r}")
            body = body.replace(old, new)
        path = out / f"{name}.py"
        path.write_text(body)
        verdicts = judge_capstone.judge(path)
        wrong = judge_capstone.wrong_items(verdicts)
        path.write_text(f"# corpus: style=cs231n; bugs={','.join(bugs)}; items={','.join(wrong)}\n" + body)
        print(f"{name:40s} {','.join(wrong) or '-'}")
        for item in wrong:
            print(f"    {item}: {verdicts[item][:160]}")


if __name__ == "__main__":
    main()
