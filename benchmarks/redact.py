"""Secret scrubbing: how fast `redact` goes through the text it meets.

Four texts of about 2 MB: log lines with no secret-sounding word (the common case,
one substring check per rule), log lines with a URL and a header name on each (the URL
and cookie rules look at each), dense ML code and config (`max_tokens: 512`,
`tokenizer.pad_token = ...` on every line: the assignment rule looks at each), and
the same with a credential every 50 lines. Printed: MB/s for each, and the lines per
second a line-by-line stream (LineScrubber) sustains on the dense text.

    uv run --frozen python benchmarks/redact.py
"""

from __future__ import annotations

import time

from agent.context.redact import LineScrubber, redact

PLAIN = "step {i} loss=0.{i} lr=2e-5 grad_norm=1.{i} samples/s=412.5 elapsed=00:{i}"
URLS = (
    "step {i} GET https://huggingface.co/bert/resolve/main/model-{i}.safetensors "
    "Cookie sent, Authorization ok"
)
DENSE = (
    "step {i} max_tokens: 512 tokenizer.pad_token = tokenizer.eos_token "
    "key_states = self.k_proj(x) num_key_value_heads: 8"
)
SECRET = "export WANDB_API_KEY=4f2a9c0e1d7b3a5f{i:06d}"


def text_of(template: str, target: int = 2_000_000, every: int = 0) -> str:
    lines, size, i = [], 0, 0
    while size < target:
        line = SECRET.format(i=i) if every and i % every == 0 else template.format(i=i)
        lines.append(line)
        size += len(line) + 1
        i += 1
    return "\n".join(lines)


def rate(text: str) -> float:
    started = time.perf_counter()
    redact(text)
    return len(text) / (time.perf_counter() - started) / 1e6


def main() -> None:
    for name, text in (
        ("plain log lines", text_of(PLAIN)),
        ("log lines with URLs", text_of(URLS)),
        ("dense ML code", text_of(DENSE)),
        ("dense, a key every 50 lines", text_of(DENSE, every=50)),
    ):
        print(f"{name:30s} {rate(text):6.1f} MB/s")
    lines = [line + "\n" for line in text_of(DENSE).splitlines()]
    scrubber = LineScrubber()
    started = time.perf_counter()
    for line in lines:
        scrubber.feed(line)
    scrubber.flush()
    print(
        f"{'LineScrubber, dense lines':30s} {len(lines) / (time.perf_counter() - started):6.0f} lines/s"
    )


if __name__ == "__main__":
    main()
