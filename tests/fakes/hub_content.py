"""Demo content for the fake Hub: models, datasets, Spaces, collections, docs, OpenAPI.

The organisation `acme` belongs to the test user (token `hf_test`), so its repos are
writable; `meta-llama` repos are gated. The dataset `acme/sentiment-prompts` has the
columns `prompt`, `completion` and `label` (a ClassLabel: negative, positive).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.fakes.hub_docs import OPENAPI, TRANSFORMERS_PAGES, TRL_PAGES

if TYPE_CHECKING:
    from tests.fakes.hub_server import FakeHub

SENTIMENT_TRAIN = [
    {
        "prompt": "Review: The battery lasts all day and charges fast.\nSentiment:",
        "completion": " positive",
        "label": 1,
    },
    {
        "prompt": "Review: Screen cracked after one week.\nSentiment:",
        "completion": " negative",
        "label": 0,
    },
    {
        "prompt": "Review: Great sound, comfortable fit.\nSentiment:",
        "completion": " positive",
        "label": 1,
    },
    {
        "prompt": "Review: Support never answered my emails.\nSentiment:",
        "completion": " negative",
        "label": 0,
    },
    {
        "prompt": "Review: "
        + "Honestly the most thorough product I have owned. " * 30
        + "\nSentiment:",
        "completion": " positive",
        "label": 1,
    },
    {
        "prompt": "Review: Arrived late and the box was damaged.\nSentiment:",
        "completion": " negative",
        "label": 0,
    },
]
SENTIMENT_TEST = [
    {
        "prompt": "Review: Works exactly as described.\nSentiment:",
        "completion": " positive",
        "label": 1,
    },
    {
        "prompt": "Review: Stopped working after a day.\nSentiment:",
        "completion": " negative",
        "label": 0,
    },
]
CHAT_TRAIN = [
    {
        "messages": [
            {"role": "user", "content": "How do I load a dataset?"},
            {"role": "assistant", "content": "Use datasets.load_dataset('name')."},
        ],
        "source": "docs",
    },
    {
        "messages": [
            {"role": "user", "content": "What is LoRA?"},
            {
                "role": "assistant",
                "content": "A low-rank adapter for parameter-efficient fine-tuning.",
            },
        ],
        "source": "forum",
    },
]
_SAFETENSORS = (
    b"\x08\x01\x00\x00\x00\x00\x00\x00"
    + b'{"__metadata__":{"format":"pt"}}'
    + bytes(range(256)) * 16
)


_README = (
    "---\nlicense: apache-2.0\nlanguage: en\npipeline_tag: text-classification\n---\n"
    "# tiny-bert-sentiment\n\nA 4-layer BERT fine-tuned on acme/sentiment-prompts.\n"
)
_TRAIN = "\n".join(f"# step {i}: adjust the learning rate schedule" for i in range(1, 121))
_CARD = "---\nlicense: mit\ntask_categories:\n- text-classification\n---\n# sentiment-prompts\n"


def _args(*args: Any, **kwargs: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    return args, kwargs


# The arguments of FakeHub.add_repo, one entry per repo.
REPOS = [
    _args(
        "acme/sentiment-demo",
        "space",
        {"app.py": "import gradio as gr\n", "README.md": "---\nsdk: gradio\n---\n"},
        sdk="gradio",
        likes=7,
        tags=["gradio", "region:us"],
        lastModified="2025-02-01T10:00:00.000Z",
    ),
    _args(
        "acme/leaderboard",
        "space",
        {"Dockerfile": "FROM python:3.11\n"},
        sdk="docker",
        likes=120,
        tags=["docker", "leaderboard"],
        lastModified="2025-03-10T09:00:00.000Z",
    ),
    _args(
        "acme/tiny-bert-sentiment",
        files={
            "README.md": _README,
            "config.json": '{\n  "architectures": ["BertForSequenceClassification"],\n  "hidden_size": 256,\n  "num_hidden_layers": 4,\n  "id2label": {"0": "negative", "1": "positive"}\n}\n',
            "model.safetensors": _SAFETENSORS,
            "tokenizer.json": '{"version": "1.0", "model": {"type": "WordPiece"}}\n',
            "training/train.py": f"from transformers import Trainer\n{_TRAIN}\n",
            "training/args.yaml": "learning_rate: 5e-5\nnum_train_epochs: 3\n",
        },
        downloads=15230,
        likes=41,
        trendingScore=5,
        pipeline_tag="text-classification",
        library_name="transformers",
        tags=[
            "transformers",
            "safetensors",
            "bert",
            "text-classification",
            "en",
            "license:apache-2.0",
            "region:us",
            "endpoints_compatible",
        ],
        lastModified="2025-03-01T12:00:00.000Z",
    ),
    _args(
        "acme/llama-3-8b-sft-lora",
        files={
            "adapter_config.json": '{"peft_type": "LORA", "r": 16}\n',
            "adapter_model.safetensors": _SAFETENSORS,
            "README.md": "# LoRA adapter\n",
        },
        downloads=880,
        likes=12,
        trendingScore=30,
        pipeline_tag="text-generation",
        library_name="peft",
        tags=["peft", "safetensors", "lora", "text-generation"],
        lastModified="2025-03-20T08:00:00.000Z",
    ),
    _args(
        "meta-llama/Llama-3.2-1B",
        gated=True,
        files={
            "config.json": '{"model_type": "llama"}\n',
            "model.safetensors": _SAFETENSORS,
            "README.md": "# Llama 3.2\n",
        },
        downloads=2_500_000,
        likes=1900,
        trendingScore=80,
        pipeline_tag="text-generation",
        library_name="transformers",
        tags=[
            "transformers",
            "safetensors",
            "llama",
            "text-generation",
            "facebook",
            "meta",
            "pytorch",
            "llama-3",
        ],
        lastModified="2024-10-24T15:07:00.000Z",
    ),
    _args(
        "google-bert/bert-base-uncased",
        files={"config.json": '{"model_type": "bert"}\n'},
        downloads=52_000_000,
        likes=2300,
        trendingScore=10,
        pipeline_tag="fill-mask",
        library_name="transformers",
        tags=["transformers", "pytorch", "bert", "fill-mask", "en"],
        lastModified="2024-02-19T11:06:00.000Z",
    ),
    _args(
        "acme/internal-model",
        private=True,
        files={"config.json": "{}\n"},
        downloads=3,
        library_name="transformers",
    ),
    _args(
        "acme/sentiment-prompts",
        "dataset",
        {
            "README.md": _CARD,
            "data/train-00000-of-00001.parquet": b"PAR1" + bytes(300) + b"PAR1",
            "data/test-00000-of-00001.parquet": b"PAR1" + bytes(100) + b"PAR1",
        },
        viewer={"default": {"train": SENTIMENT_TRAIN, "test": SENTIMENT_TEST}},
        class_labels={"label": ["negative", "positive"]},
        downloads=5120,
        likes=9,
        tags=[
            "task_categories:text-classification",
            "language:en",
            "size_categories:n<1K",
            "format:parquet",
            "library:datasets",
        ],
        description="Product reviews as prompt/completion pairs with a sentiment label.",
        lastModified="2025-02-11T10:00:00.000Z",
    ),
    _args(
        "acme/chat-sft",
        "dataset",
        {"README.md": "# chat-sft\n"},
        viewer={"default": {"train": CHAT_TRAIN}},
        downloads=300,
        likes=2,
        tags=["task_categories:text-generation", "library:datasets"],
    ),
    _args(
        "acme/multilingual-qa",
        "dataset",
        {"README.md": "# multilingual-qa\n"},
        viewer={
            "en": {
                "train": [{"question": "Capital of France?", "answer": "Paris"}],
                "validation": [{"question": "2+2?", "answer": "4"}],
            },
            "fr": {"train": [{"question": "Capitale de la France ?", "answer": "Paris"}]},
        },
        downloads=40,
        tags=["task_categories:question-answering", "language:en", "language:fr"],
    ),
    _args(
        "acme/raw-logs",
        "dataset",
        {"logs/2024-01.jsonl": '{"event": "start"}\n'},
        viewer=None,
        downloads=1,
    ),
    _args(
        "meta-llama/eval-suite",
        "dataset",
        {"README.md": "# Evals\n"},
        gated=True,
        viewer={"default": {"test": [{"question": "q", "answer": "a"}]}},
        downloads=700,
        tags=["library:datasets"],
    ),
]

# The arguments of FakeHub.add_collection.
COLLECTIONS = [
    _args(
        "acme",
        "Sentiment models",
        [
            ("model", "acme/tiny-bert-sentiment"),
            ("dataset", "acme/sentiment-prompts"),
            ("space", "acme/sentiment-demo"),
        ],
        upvotes=12,
        description="Small sentiment classifiers and the data they were trained on",
        lastUpdated="2025-03-01T12:00:00.000Z",
    ),
    _args(
        "meta-llama",
        "Llama 3.2",
        [("model", "meta-llama/Llama-3.2-1B")],
        upvotes=300,
        description="Lightweight text-only models",
        lastUpdated="2024-09-25T12:00:00.000Z",
    ),
]


def seed(hub: FakeHub) -> None:
    for args, kwargs in REPOS:
        hub.add_repo(*args, **kwargs)
    for args, kwargs in COLLECTIONS:
        hub.add_collection(*args, **kwargs)
    hub.add_docs("trl", TRL_PAGES)
    hub.add_docs("transformers", TRANSFORMERS_PAGES)
    hub.openapi = OPENAPI
