"""Streaming render: Markdown answers of 50, 100 and 200 KB fed in 4-token chunks.

The chat's renderer gets the same events the engine emits (assistant_chunk, then
assistant_stream_end and assistant_message) and draws into a colour terminal of
100 x 40 whose output is thrown away. Printed: chars/s per size, and how the time
grows from 50 KB to 200 KB (4.0 means linear; re-rendering the whole answer per
chunk would make it about 16).

    uv run --frozen python benchmarks/render_stream.py
"""

from __future__ import annotations

import os
import time

from agent import events as ev
from agent.cli.chat.render import Renderer, SafeConsole

SECTION = """## Step {n}: training run

The loss curve of run {n} flattens after **2,000 steps**, so the learning rate
schedule is the next thing to try. We keep `batch_size=32` and change only the
warm-up; see the [docs](https://huggingface.co/docs) for the scheduler options.

- warm-up of {n}00 steps, then cosine decay
- evaluate every 500 steps on the held-out split
- keep the best checkpoint by `eval_loss`

```python
from transformers import TrainingArguments

args = TrainingArguments(
    output_dir="run-{n}",
    learning_rate=2e-5,
    warmup_steps={n}00,
    lr_scheduler_type="cosine",
)
print(args.learning_rate)
```

1. launch the job
2. watch the metrics

> Result: eval loss {n}.25 after the change.

"""


def markdown_of(size: int) -> str:
    parts: list[str] = []
    total, n = 0, 0
    while total < size:
        n += 1
        parts.append(SECTION.format(n=n))
        total += len(parts[-1])
    return "".join(parts)[:size]


def chunks(text: str, tokens_per_chunk: int = 4, chars_per_token: int = 4) -> list[str]:
    """Pieces of four tokens, a token counted as four characters (OpenAI's rule of thumb)."""
    size = tokens_per_chunk * chars_per_token
    return [text[i : i + size] for i in range(0, len(text), size)]


def render_seconds(text: str) -> float:
    with open(os.devnull, "w", encoding="utf-8") as sink:
        console = SafeConsole(  # the chat's own console
            file=sink, force_terminal=True, color_system="truecolor", width=100, height=40
        )
        renderer = Renderer(console)
        events = [ev.AssistantChunk(content=piece) for piece in chunks(text)]
        started = time.perf_counter()
        renderer(ev.Processing(iteration=1))
        for event in events:
            renderer(event)
        renderer(ev.AssistantStreamEnd())
        renderer(ev.AssistantMessage(content=text))
        renderer.pause()
        return time.perf_counter() - started


def main() -> None:
    render_seconds(markdown_of(10_000))  # warm up imports and caches
    results = {}
    for kb in (50, 100, 200):
        text = markdown_of(kb * 1000)
        seconds = min(render_seconds(text) for _ in range(2))
        results[kb] = seconds
        print(
            f"{kb:4d} KB  {len(chunks(text)):6d} chunks  {seconds:6.2f} s  "
            f"{len(text) / seconds:10,.0f} chars/s"
        )
    print(f"time(200 KB) / time(50 KB) = {results[200] / results[50]:.2f}  (4.0 = linear)")
    print("budget: linear in output size, > 50,000 chars/s")


if __name__ == "__main__":
    main()
