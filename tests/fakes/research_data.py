"""Sample bodies for the research fakes, shaped like the real services' answers.

The papers, repositories and pages are invented stand-ins written for the tests; their
shapes (field names, nesting, HTML classes) follow what the real APIs return.
"""

from __future__ import annotations

DPO = "2305.18290"
LORA = "2106.09685"
QLORA = "2305.14314"


def _author(name: str) -> dict:
    return {"_id": name.lower().replace(" ", "-"), "name": name, "hidden": False}


PAPERS = {
    DPO: {
        "id": DPO,
        "title": "Direct Preference Optimization: Your Language Model is Secretly a Reward Model",
        "summary": (
            "Aligning language models with human preferences usually goes through a learned "
            "reward model and reinforcement learning. We show that the optimal policy can be "
            "obtained in closed form, which turns preference learning into a simple "
            "classification loss on preference pairs, with no sampling during training."
        ),
        "authors": [
            _author(n)
            for n in (
                "Rafael Rafailov",
                "Archit Sharma",
                "Eric Mitchell",
                "Stefano Ermon",
                "Christopher D. Manning",
                "Chelsea Finn",
            )
        ],
        "publishedAt": "2023-05-29T17:57:46.000Z",
        "upvotes": 61,
        "githubRepo": "https://github.com/eric-mitchell/direct-preference-optimization",
    },
    LORA: {
        "id": LORA,
        "title": "LoRA: Low-Rank Adaptation of Large Language Models",
        "summary": (
            "Full fine-tuning of very large models is costly. Freezing the pretrained weights and "
            "training low-rank update matrices in each layer cuts trainable parameters by orders "
            "of magnitude while matching the quality of full fine-tuning."
        ),
        "authors": [_author(n) for n in ("Edward J. Hu", "Yelong Shen", "Phillip Wallis")],
        "publishedAt": "2021-06-17T17:37:18.000Z",
        "upvotes": 42,
    },
    QLORA: {
        "id": QLORA,
        "title": "QLoRA: Efficient Finetuning of Quantized LLMs",
        "summary": (
            "Backpropagating through a frozen 4-bit quantized model into low-rank adapters makes "
            "it possible to fine-tune a 65B model on a single 48GB GPU with little quality loss."
        ),
        "authors": [
            _author(n)
            for n in ("Tim Dettmers", "Artidoro Pagnoni", "Ari Holtzman", "Luke Zettlemoyer")
        ],
        "publishedAt": "2023-05-23T17:50:33.000Z",
        "upvotes": 75,
    },
}

# Hub repositories whose cards cite a paper (what /api/models?filter=arxiv:<id> finds).
LINKED = {
    "models": {
        DPO: [
            {"id": "HuggingFaceH4/zephyr-7b-beta", "likes": 1650, "downloads": 210000},
            {"id": "allenai/tulu-2-dpo-70b", "likes": 160, "downloads": 9000},
        ]
    },
    "datasets": {DPO: [{"id": "HuggingFaceH4/ultrafeedback_binarized", "likes": 300}]},
    "spaces": {},
}


def _s2(paper_id: str, title: str, date: str | None, year: int, cited: int, arxiv: str | None):
    ids = {"DOI": f"10.48550/arXiv.{arxiv}", "ArXiv": arxiv} if arxiv else {"MAG": "2097036587"}
    return {
        "paperId": paper_id,
        "title": title,
        "year": year,
        "publicationDate": date,
        "citationCount": cited,
        "externalIds": ids,
        "authors": [{"authorId": "1", "name": "A. Author"}, {"authorId": "2", "name": "B. Author"}],
    }


CITATIONS = {
    DPO: [
        _s2(
            "a1",
            "Zephyr: Direct Distillation of LM Alignment",
            "2023-10-25",
            2023,
            900,
            "2310.16944",
        ),
        _s2(
            "a2",
            "KTO: Model Alignment as Prospect Theoretic Optimization",
            "2024-02-02",
            2024,
            450,
            "2402.01306",
        ),
        _s2(
            "a3",
            "SimPO: Simple Preference Optimization with a Reference-Free Reward",
            "2024-05-23",
            2024,
            380,
            "2405.14734",
        ),
        _s2(
            "a4",
            "A General Theoretical Paradigm to Understand Learning from Human Preferences",
            "2023-10-18",
            2023,
            520,
            "2310.12036",
        ),
        _s2("a5", "Preference Tuning in Practice: A Workshop Report", None, 2024, 3, None),
        {
            "paperId": None,
            "title": None,
            "year": None,
            "citationCount": None,
            "externalIds": None,
            "authors": [],
        },
    ]
}
REFERENCES = {
    DPO: [
        _s2(
            "b1",
            "Training language models to follow instructions with human feedback",
            "2022-03-04",
            2022,
            9000,
            "2203.02155",
        ),
        _s2(
            "b2", "Proximal Policy Optimization Algorithms", "2017-07-20", 2017, 15000, "1707.06347"
        ),
        _s2(
            "b3",
            "Deep reinforcement learning from human preferences",
            "2017-06-12",
            2017,
            2800,
            "1706.03741",
        ),
        _s2("b4", "Rank Analysis of Incomplete Block Designs", None, 1952, 6000, None),
    ]
}

_APPENDIX_PARAGRAPH = (
    "<div class='ltx_para'><p class='ltx_p'>Sample {n}. Prompt: write a short note about "
    "gardening in spring. The policy trained with the preference loss answers in a friendly, "
    "concrete way and stays on topic, while the supervised baseline repeats itself and drifts "
    "towards generic advice. Judges preferred the first answer in this comparison. "
    + "The preferred answer also lists concrete steps. " * 4
    + "</p></div>"
)


def arxiv_page(arxiv_id: str) -> str:
    """A LaTeXML rendering as arxiv.org/html serves it: abstract, sections, math, tables."""
    paper = PAPERS[arxiv_id]
    samples = "".join(_APPENDIX_PARAGRAPH.format(n=n) for n in range(1, 61))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{paper["title"]}</title>
<link rel="stylesheet" href="https://arxiv.org/static/browse/0.3.4/css/ar5iv.min.css">
<script>window.MathJax = {{}};</script></head>
<body><nav class="ltx_page_navbar"><a href="#S1">1 Introduction</a></nav>
<div class="ltx_page_main"><div class="ltx_page_content">
<article class="ltx_document ltx_authors_1line">
<h1 class="ltx_title ltx_title_document">{paper["title"]}</h1>
<div class="ltx_authors"><span class="ltx_creator ltx_role_author">
<span class="ltx_personname">{", ".join(a["name"] for a in paper["authors"])}</span></span></div>
<div class="ltx_abstract"><h6 class="ltx_title ltx_title_abstract">Abstract</h6>
<p class="ltx_p" id="id1.id1">{paper["summary"]}</p></div>
<section class="ltx_section" id="S1">
<h2 class="ltx_title ltx_title_section"><span class="ltx_tag ltx_tag_section">1 </span>Introduction</h2>
<div class="ltx_para" id="S1.p1"><p class="ltx_p">Large unsupervised language models learn broad
knowledge, but steering their behaviour is hard.</p></div></section>
<section class="ltx_section" id="S4">
<h2 class="ltx_title ltx_title_section"><span class="ltx_tag ltx_tag_section">4 </span>Direct Preference Optimization</h2>
<div class="ltx_para"><p class="ltx_p">The policy objective becomes
<math id="S4.m1" class="ltx_Math" alttext="\\mathcal{{L}}_{{\\text{{DPO}}}}(\\pi_{{\\theta}};\\pi_{{\\text{{ref}}}})" display="inline">
<semantics><mrow><msub><mi class="ltx_font_mathcaligraphic">ℒ</mi><mtext>DPO</mtext></msub></mrow>
<annotation encoding="application/x-tex">\\mathcal{{L}}_{{\\text{{DPO}}}}</annotation></semantics></math>,
a binary cross-entropy over preference pairs.</p></div>
<section class="ltx_subsection" id="S4.SS1">
<h3 class="ltx_title ltx_title_subsection"><span class="ltx_tag ltx_tag_subsection">4.1 </span>What does the update do?</h3>
<div class="ltx_para"><p class="ltx_p">The gradient raises the likelihood of preferred answers
and lowers that of dispreferred ones, weighted by how wrong the implicit reward is.</p></div>
</section></section>
<section class="ltx_section" id="S6">
<h2 class="ltx_title ltx_title_section"><span class="ltx_tag ltx_tag_section">6 </span>Experiments</h2>
<div class="ltx_para"><p class="ltx_p">We compare against PPO on summarization and dialogue.</p></div>
<figure class="ltx_table" id="S6.T1">
<figcaption class="ltx_caption ltx_centering"><span class="ltx_tag ltx_tag_table">Table 1: </span>
Win rates against reference summaries (TL;DR), judged by GPT-4.</figcaption>
<table class="ltx_tabular ltx_centering ltx_guessed_headers ltx_align_middle">
<thead class="ltx_thead"><tr class="ltx_tr">
<th class="ltx_td ltx_align_left ltx_th ltx_th_column ltx_border_tt">Method</th>
<th class="ltx_td ltx_align_center ltx_th ltx_th_column ltx_border_tt">Win rate</th></tr></thead>
<tbody class="ltx_tbody">
<tr class="ltx_tr"><td class="ltx_td ltx_align_left">DPO</td><td class="ltx_td ltx_align_center">0.61</td></tr>
<tr class="ltx_tr"><td class="ltx_td ltx_align_left">PPO</td><td class="ltx_td ltx_align_center">0.57</td></tr>
</tbody></table></figure></section>
<section class="ltx_appendix" id="A2">
<h2 class="ltx_title ltx_title_appendix"><span class="ltx_tag ltx_tag_appendix">Appendix B </span>DPO Implementation Details and Hyperparameters</h2>
<div class="ltx_para"><p class="ltx_p">Unless noted otherwise we use
<math alttext="\\beta=0.1" display="inline"><mi>β</mi></math> and the settings below.</p></div>
<figure class="ltx_table" id="A2.T3">
<figcaption class="ltx_caption"><span class="ltx_tag ltx_tag_table">Table 3: </span>Training hyperparameters.</figcaption>
<table class="ltx_tabular"><tbody class="ltx_tbody">
<tr class="ltx_tr"><td class="ltx_td">Optimizer</td><td class="ltx_td">RMSprop</td></tr>
<tr class="ltx_tr"><td class="ltx_td">Learning rate</td><td class="ltx_td">1e-6</td></tr>
<tr class="ltx_tr"><td class="ltx_td">Batch size</td><td class="ltx_td">64</td></tr>
<tr class="ltx_tr"><td class="ltx_td">Warmup steps</td><td class="ltx_td">150</td></tr>
</tbody></table></figure></section>
<section class="ltx_appendix" id="A3">
<h2 class="ltx_title ltx_title_appendix"><span class="ltx_tag ltx_tag_appendix">Appendix C </span>Additional Samples</h2>
{samples}
<p class="ltx_p">END OF SAMPLES</p></section>
<section class="ltx_bibliography" id="bib">
<h2 class="ltx_title ltx_title_bibliography">References</h2>
<ul class="ltx_biblist"><li class="ltx_bibitem" id="bib.bib1">Schulman et al. Proximal policy
optimization algorithms. 2017.</li></ul></section>
</article></div></div>
<footer class="ltx_page_footer">Generated by LaTeXML</footer></body></html>"""


SFT_SCRIPT = '''"""Supervised fine-tuning with TRL."""

from datasets import load_dataset
from trl import SFTConfig, SFTTrainer

dataset = load_dataset("trl-lib/Capybara", split="train")
training_args = SFTConfig(output_dir="Qwen2-0.5B-SFT", learning_rate=2e-5)
trainer = SFTTrainer(
    model="Qwen/Qwen2-0.5B",
    args=training_args,
    train_dataset=dataset,
)
trainer.train()
'''

DPO_SCRIPT = """from trl import DPOConfig, DPOTrainer

trainer = DPOTrainer(model=model, args=DPOConfig(beta=0.1), train_dataset=dataset)
trainer.train()
"""


def community_script(model: str) -> str:
    return (
        "import torch\nfrom trl import SFTTrainer\n\n"
        f'trainer = SFTTrainer(model="{model}", train_dataset=data)\ntrainer.train()\n'
    )


def long_script(lines: int = 950) -> str:
    body = [f"value_{n} = {n}  # line {n + 1}" for n in range(lines - 1)]
    return "\n".join(["# run_clm.py: causal language modelling", *body]) + "\n"


def _repo(full_name: str, stars: int, pushed: str, **extra) -> dict:
    owner, name = full_name.split("/")
    kind = "Organization" if owner == "huggingface" else "User"
    return {
        "id": abs(hash(full_name)) % 10**8,
        "name": name,
        "full_name": full_name,
        "owner": {"login": owner, "type": kind},
        "private": False,
        "html_url": f"https://github.com/{full_name}",
        "description": extra.pop("description", f"{name} repository"),
        "fork": False,
        "archived": False,
        "language": "Python",
        "stargazers_count": stars,
        "forks_count": stars // 10,
        "default_branch": "main",
        "created_at": "2020-01-01T00:00:00Z",
        "updated_at": pushed,
        "pushed_at": pushed,
        **extra,
    }


REPOS = [
    _repo(
        "huggingface/trl",
        15200,
        "2026-04-30T10:00:00Z",
        description="Train transformer language models with reinforcement learning.",
    ),
    _repo(
        "huggingface/transformers",
        150000,
        "2026-05-01T10:00:00Z",
        description="Transformers: the model-definition framework for state-of-the-art machine learning models.",
    ),
    _repo(
        "huggingface/peft",
        19000,
        "2026-04-20T10:00:00Z",
        description="PEFT: State-of-the-art Parameter-Efficient Fine-Tuning.",
    ),
    _repo(
        "huggingface/old-demos",
        30,
        "2019-03-01T10:00:00Z",
        archived=True,
        language="Jupyter Notebook",
    ),
    _repo(
        "alice-ml/llm-recipes",
        850,
        "2026-03-02T10:00:00Z",
        description="Recipes for fine-tuning small LLMs with TRL SFTTrainer and PEFT LoraConfig.",
    ),
    _repo("bob/old-finetune", 3000, "2021-02-01T10:00:00Z", default_branch="master"),
    _repo("carol/tiny-sft", 40, "2026-01-15T10:00:00Z"),
    _repo("dave/archived-sft", 5000, "2025-11-01T10:00:00Z", archived=True),
]

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"

FILES = {
    ("huggingface/trl", "main", "examples/scripts/sft.py"): SFT_SCRIPT.encode(),
    ("huggingface/trl", "main", "examples/scripts/dpo.py"): DPO_SCRIPT.encode(),
    (
        "huggingface/trl",
        "main",
        "examples/scripts/reward_modeling.py",
    ): b"from trl import RewardTrainer\n",
    ("huggingface/trl", "main", "examples/notebooks/README.md"): b"# Notebooks\n",
    ("huggingface/trl", "main", "trl/scripts/sft.py"): SFT_SCRIPT.encode(),
    (
        "huggingface/trl",
        "main",
        "trl/trainer/sft_trainer.py",
    ): b"class SFTTrainer(Trainer):\n    pass\n",
    ("huggingface/trl", "main", "docs/logo.png"): PNG,
    (
        "huggingface/trl",
        "v0.9.0",
        "examples/scripts/sft.py",
    ): b"# trl 0.9 version\nfrom trl import SFTTrainer\n",
    (
        "huggingface/transformers",
        "main",
        "examples/pytorch/language-modeling/run_clm.py",
    ): long_script().encode(),
    (
        "huggingface/peft",
        "main",
        "examples/lora_dreambooth/train.py",
    ): b"from peft import LoraConfig\n",
    (
        "huggingface/peft",
        "main",
        "examples/sft/train.py",
    ): b"from peft import LoraConfig\nfrom trl import SFTTrainer\n",
    ("alice-ml/llm-recipes", "main", "recipes/sft_qwen.py"): community_script(
        "Qwen/Qwen2.5-1.5B"
    ).encode(),
    ("bob/old-finetune", "master", "train.py"): community_script("gpt2").encode(),
    ("carol/tiny-sft", "main", "sft.py"): community_script("HuggingFaceTB/SmolLM2-135M").encode(),
    ("dave/archived-sft", "main", "main.py"): community_script("facebook/opt-350m").encode(),
}

SEARCH_RESULTS = [
    (
        "SFT Trainer - Hugging Face TRL documentation",
        "https://huggingface.co/docs/trl/sft_trainer",
        "The SFTTrainer makes it straightforward to <b>supervised fine-tune</b> open LLMs.",
    ),
    (
        "How to fine-tune an LLM with TRL in 2025",
        "https://www.philschmid.de/fine-tune-llms-in-2025",
        "A step-by-step guide to fine-tuning open models with <b>TRL</b> and QLoRA.",
    ),
    (
        "trl/examples/scripts/sft.py at main · huggingface/trl",
        "https://github.com/huggingface/trl/blob/main/examples/scripts/sft.py",
        "Full training script for supervised fine-tuning.",
    ),
    (
        "Fine-tuning discussion thread",
        "https://discuss.huggingface.co/t/sft-trainer-questions/12345",
        "Questions and answers about SFTTrainer arguments &amp; packing.",
    ),
]

ARTICLE = """<!DOCTYPE html><html><head><meta charset="utf-8">
<title>Fine-tuning guide</title><style>body { color: red }</style></head>
<body><nav><a href="/">Home</a> | <a href="/blog">Blog</a></nav>
<main><h1>Fine-tuning guide</h1>
<p>Use a <strong>small learning rate</strong> such as 2e-5.</p>
<pre><code>trainer = SFTTrainer(model=model)</code></pre>
<table><tr><th>Setting</th><th>Value</th></tr><tr><td>epochs</td><td>3</td></tr></table>
</main><footer>Copyright footer text</footer><script>trackVisitor();</script></body></html>"""


def long_article(paragraphs: int = 120) -> str:
    body = "".join(
        f"<p>Paragraph {n}: {'training details ' * 20}</p>" for n in range(1, paragraphs + 1)
    )
    return f"<html><head><title>Long page</title></head><body>{body}<p>THE END</p></body></html>"
