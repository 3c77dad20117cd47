"""The memory, time and cost estimate, checked against figures computed by hand."""

from __future__ import annotations

import pytest

from agent.compute.estimate import ModelShape, Workload, fits, memory, train_seconds
from agent.compute.script import output_repo, read_plan
from agent.context.system_prompt import render_system_prompt

LLAMA_7B = ModelShape(params=7e9, hidden=4096, layers=32, heads=32, kv_heads=32)
LLAMA_70B = ModelShape(params=70e9, hidden=8192, layers=80, heads=64, kv_heads=8)


def test_7b_full_fine_tune_in_bf16_with_adam() -> None:
    est = memory(LLAMA_7B, Workload("full", "bf16", batch=1, seq_len=1024))
    assert est.weights == 14e9  # 2 bytes x 7e9
    assert est.training_state == 112e9  # (4 gradients + 8 Adam + 4 fp32 master) x 7e9
    assert est.activations == 34 * 1 * 1024 * 4096 * 32  # 4,563,402,752
    assert est.total == 130_563_402_752
    assert not fits(est.total, 80, 1)  # a single A100 80 GB is not enough
    assert fits(est.total, 80, 2)


def test_7b_full_fine_tune_in_fp32_has_no_master_copy() -> None:
    est = memory(LLAMA_7B, Workload("full", "fp32", batch=1, seq_len=1024))
    assert est.weights + est.training_state == 7e9 * 16


def test_7b_lora() -> None:
    work = Workload("lora", "bf16", batch=4, seq_len=2048, gradient_checkpointing=True)
    est = memory(LLAMA_7B, work)
    assert est.weights == 14e9
    assert est.training_state == 32 * 4 * 16 * 2 * 4096 * 16  # 16.8M trainable x 16 bytes
    assert est.activations == 2 * 4 * 2048 * 4096 * 32
    assert est.total == 16_415_919_104
    assert fits(est.total, 24, 1)


def test_7b_qlora_holds_the_base_in_4_bits() -> None:
    work = Workload("qlora", "bf16", batch=4, seq_len=2048, gradient_checkpointing=True)
    est = memory(LLAMA_7B, work)
    assert est.weights == 3.5e9
    assert est.total == 5_915_919_104
    assert fits(est.total, 16, 1)  # a T4


def test_70b_serving_is_weights_plus_kv_cache() -> None:
    est = memory(LLAMA_70B, Workload("serve", "bf16", batch=1, seq_len=4096))
    assert est.weights == 140e9
    assert est.activations == 2 * 80 * 8 * 128 * 4096 * 1 * 2  # 1,342,177,280
    assert est.total == 141_342_177_280
    assert not fits(est.total, 80, 1)
    assert fits(est.total, 80, 2)


def test_run_time_from_tokens_and_gpu_throughput() -> None:
    # 6 x 7e9 x 1e9 FLOPs on one A100 at 35% of 312 TFLOPS
    seconds = train_seconds(7e9, 1e9, "A100", 1)
    assert seconds == pytest.approx(6 * 7e9 * 1e9 / (312e12 * 0.35))
    assert train_seconds(7e9, 1e9, "A100", 4) == pytest.approx(seconds / 4)
    assert train_seconds(7e9, 1e9, "TPU", 1) is None


def test_a_trl_command_line_is_read() -> None:
    plan = read_plan(
        "trl sft --model_name_or_path Qwen/Qwen2.5-7B --dataset_name a/b --use_peft "
        "--lora_r 32 --per_device_train_batch_size 4 --max_length 2048 --bf16 "
        "--gradient_checkpointing --max_steps 500 --gradient_accumulation_steps 2"
    )
    assert plan is not None
    assert plan.model_id == "Qwen/Qwen2.5-7B"
    assert plan.work == Workload("lora", "bf16", 4, 2048, True, 32)
    assert (plan.max_steps, plan.grad_accum) == (500, 2)
    assert plan.dataset_id == "a/b"


def test_epochs_and_where_a_run_pushes_are_read() -> None:
    code = "trl sft --model_name_or_path a/m --dataset_name a/d --num_train_epochs 1.5 --output_dir /tmp/x/qwen-out/"
    plan = read_plan(code)
    assert plan is not None and (plan.epochs, plan.max_steps) == (1.5, None)
    assert output_repo(code) == "qwen-out"  # pushed under the token's account
    assert output_repo(code + " --hub_model_id org/qwen-sft") == "org/qwen-sft"
    assert output_repo('TrainingArguments("runs/llama", push_to_hub=True)') == "llama"
    assert output_repo("python train.py") is None


def test_a_python_script_is_read() -> None:
    code = """
from transformers import AutoModelForCausalLM, BitsAndBytesConfig
from trl import SFTConfig, SFTTrainer
MODEL_ID = "meta-llama/Llama-3.1-8B"
model = AutoModelForCausalLM.from_pretrained(
    MODEL_ID, quantization_config=BitsAndBytesConfig(load_in_4bit=True))
config = SFTConfig(per_device_train_batch_size=2, max_length=4096, bf16=True)
SFTTrainer(model=model, args=config, peft_config=LoraConfig(r=8)).train()
"""
    plan = read_plan(code)
    assert plan is not None
    assert plan.model_id == "meta-llama/Llama-3.1-8B"
    assert plan.work == Workload("qlora", "bf16", 2, 4096, False, 8)
    assert plan.max_steps is None


def test_serving_and_other_code() -> None:
    plan = read_plan("vllm serve meta-llama/Llama-3.3-70B-Instruct --max-model-len 8192")
    assert plan is not None
    assert (plan.work.mode, plan.work.seq_len, plan.work.batch) == ("serve", 8192, 1)
    assert plan.model_id == "meta-llama/Llama-3.3-70B-Instruct"
    assert read_plan("python -c 'print(1)'") is None


def test_the_prompt_guide_uses_the_estimator(tmp_path) -> None:
    prompt = render_system_prompt("m", tmp_path, ["hf_jobs"])
    # a 7B decoder (hidden 4096, 32 layers) as above, with checkpointing: 2 x 4 x 2048 x 4096
    # x 32 bytes of activations; full: 126 GB + 2.1 GB, rounded up
    assert "7B: full 129 GB, LoRA 16.4 GB, QLoRA 5.9 GB, serving" in prompt
    assert "{sizing}" not in prompt


def test_a_models_shape_from_its_config() -> None:
    from agent.tools.jobs.sizing import shape_from

    text = {"hidden_size": 4096, "num_hidden_layers": 32, "num_attention_heads": 32}
    shape = shape_from({"text_config": {**text, "num_key_value_heads": 8}}, None)
    assert (shape.hidden, shape.layers, shape.kv_heads, shape.head_size) == (4096, 32, 8, 128)
    # no parameter count from the Hub: 12 x layers x hidden^2 + 2 x 32000 (vocab) x hidden
    assert shape.params == 12 * 32 * 4096**2 + 2 * 32_000 * 4096
    assert shape_from(text, 7e9).params == 7e9
    with pytest.raises(ValueError, match="no hidden_size"):
        shape_from({"model_type": "custom"}, 1e9)
