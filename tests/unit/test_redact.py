"""Secrets never survive redaction; ordinary text does."""

from __future__ import annotations

import os

import pytest

from agent.context.redact import LineScrubber, redact, redact_obj
from tests import secret_corpus as corpus
from tests.secret_corpus import FILL

HF = "hf_" + "aB3" * 12
GITHUB = "ghp_" + "Zq9" * 12
OPENAI = "sk-proj-" + "Ab1_x-" * 10
OPENAI_OLD = "sk-" + "T3stKey" * 7
ANTHROPIC = "sk-ant-api03-" + "k3Y-" * 20
SLACK = "xoxb-1234567890-0987654321-" + "a1B2" * 6
AWS = "AKIAIOSFODNN7EXAMPLE"
GOOGLE = "AIza" + "Sy0-_" * 7


@pytest.mark.parametrize(
    ("text", "secret", "kind"),
    [
        (f"export HF_TOKEN={HF}", HF, "hf_token"),
        (f"org token api_org_{'x1Y' * 11}", f"api_org_{'x1Y' * 11}", "hf_token"),
        (f"remote https://{GITHUB}@github.com/a/b", GITHUB, "github_token"),
        (f"gho_{'a1' * 18} in a header", f"gho_{'a1' * 18}", "github_token"),
        (f"github_pat_11ABC_{'z9' * 20}", f"github_pat_11ABC_{'z9' * 20}", "github_token"),
        (f"key={OPENAI};", OPENAI, "openai_key"),
        (f"OPENAI_API_KEY={OPENAI_OLD}", OPENAI_OLD, "openai_key"),
        (f"'{ANTHROPIC}'", ANTHROPIC, "anthropic_key"),
        (f"slack {SLACK}", SLACK, "slack_token"),
        (f"aws_access_key_id = {AWS}", AWS, "aws_access_key"),
        (f"maps?key={GOOGLE}&q=1", GOOGLE, "google_api_key"),
    ],
)
def test_each_token_shape_is_replaced_by_a_marker(text, secret, kind):
    out = redact(text)
    assert secret not in out
    assert f"[REDACTED:{kind}]" in out


@pytest.mark.parametrize(
    "header",
    [
        'curl -H "Authorization: Bearer abc.DEF-123_456" https://x',
        "authorization: basic dXNlcjpwYXNzd29yZA==",
        "{'Authorization': 'token abc.DEF-123_456'}",
        "Proxy-Authorization: Bearer abc.DEF-123_456",
        "got bearer abc.DEF-123_456.zzzzzzzz back",
    ],
)
def test_authorization_credentials_are_scrubbed_and_the_scheme_kept(header):
    out = redact(header)
    assert "abc.DEF-123_456" not in out
    assert "dXNlcjpwYXNzd29yZA==" not in out
    assert "[REDACTED:authorization]" in out
    assert any(word in out.lower() for word in ("bearer ", "basic ", "token "))


def test_authorization_json_field_is_scrubbed_whole():
    text = '{"url": "https://hub", "Authorization": "Bearer x\\"y z", "n": 1}'
    assert (
        redact(text)
        == '{"url": "https://hub", "Authorization": "[REDACTED:authorization]", "n": 1}'
    )


def test_private_key_blocks_are_scrubbed_even_when_cut_off():
    block = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\nAAAA\n-----END OPENSSH PRIVATE KEY-----"
    assert redact(f"key:\n{block}\ndone") == "key:\n[REDACTED:private_key]\ndone"
    cut = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA"
    assert redact(f"head {cut}") == "head [REDACTED:private_key]"


@pytest.mark.parametrize(
    "text",
    [
        "pip install scikit-learn  # sk-learn",
        "the task-ant-colony-optimisation-2024 benchmark",
        "from huggingface_hub import hf_hub_download, hf_api_token_helper",
        "risk-assessment-2024-final-report-v2 and desk-12345678901234567890",
        "the authorization step needs approval; a bearer of news",
        "xoxo, see you; AKIA is short; AIzaShort",
        "ghost_writer ghp_short gh_pages",
        "hf_TOKEN_NAME is a variable name",
    ],
)
def test_ordinary_text_survives(text):
    assert redact(text) == text


def test_secret_environment_values_are_read_at_call_time(monkeypatch):
    monkeypatch.setenv("MY_SERVICE_TOKEN", "plain-looking-value-1")
    assert redact("use plain-looking-value-1 now") == "use [REDACTED:env:MY_SERVICE_TOKEN] now"
    monkeypatch.setenv("MY_SERVICE_TOKEN", "another-value-22")
    assert redact("plain-looking-value-1 another-value-22") == (
        "plain-looking-value-1 [REDACTED:env:MY_SERVICE_TOKEN]"
    )


def test_only_long_values_of_secret_looking_names_are_scrubbed(monkeypatch):
    monkeypatch.setenv("TOKENIZERS_PARALLELISM", "false")
    monkeypatch.setenv("DB_PASSWORD", "correct horse battery")
    monkeypatch.setenv("SSH_KEY_PATH", "/home/me/.ssh/id_ed25519")
    monkeypatch.setenv("EDITOR", "some-editor-binary")
    text = "false /home/me/.ssh/id_ed25519 some-editor-binary correct horse battery"
    assert redact(text) == (
        "false /home/me/.ssh/id_ed25519 some-editor-binary [REDACTED:env:DB_PASSWORD]"
    )


def test_extra_secrets_are_scrubbed():
    assert redact("pass=hunter2!", extra_secrets=["hunter2!"]) == "pass=[REDACTED:secret]"


def test_redact_obj_walks_nested_values_without_touching_the_input():
    message = {
        "role": "assistant",
        "content": f"token {HF}",
        "tool_calls": [{"function": {"arguments": f'{{"key": "{OPENAI}"}}'}}],
        "meta": ({"api_key": "short", "count": 3}, None, 1.5),
    }
    out = redact_obj(message)
    assert out == {
        "role": "assistant",
        "content": "token [REDACTED:hf_token]",
        "tool_calls": [{"function": {"arguments": '{"key": "[REDACTED:openai_key]"}'}}],
        "meta": ({"api_key": "[REDACTED:api_key]", "count": 3}, None, 1.5),
    }
    assert message["content"] == f"token {HF}"


def test_several_secrets_in_one_text_are_all_scrubbed():
    text = f"{HF}\n{GITHUB} {AWS}\nAuthorization: Bearer {OPENAI}"
    out = redact(text)
    for secret in (HF, GITHUB, AWS, OPENAI):
        assert secret not in out


def test_escaped_quotes_in_tool_arguments_keep_the_json_valid():
    import json as _json

    arguments = _json.dumps({"command": 'curl -H "Authorization: Bearer $HF_TOKEN" https://x'})
    scrubbed = redact(arguments)
    assert _json.loads(scrubbed)["command"].startswith("curl -H")


def test_more_token_spellings_are_caught():
    hf = "hf_" + "A1b2C3d4E5" * 4
    for text in (
        f"{hf}_suffix",
        f"token%3D{hf}",
        "xapp-1-A0B1C2D3E4F5G6",
        "xoxe-1-ABCDEF1234567890",
    ):
        assert "REDACTED" in redact(text), text


# -- secret-named assignments -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("WANDB_API_KEY=4f2a9c0e1d7b3a5f", "4f2a9c0e1d7b3a5f"),
        ("export WANDB_API_KEY=4f2a9c0e1d7b3a5f", "4f2a9c0e1d7b3a5f"),
        ("DB_PASSWORD: x", "x"),
        ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI"),
        ("MYSERVICE_PASS=abc", "abc"),
        ('{"client_secret": "abcd", "n": 1}', "abcd"),
        ("{'apiKey': 'zzz'}", "zzz"),
        ('export SECRET_TOKEN="hello world"', "hello world"),
        ('echo \'{\\"DB_PASSWD\\": \\"hunter2\\"}\'', "hunter2"),
        ("GOOGLE_CREDENTIALS: service-account-1", "service-account-1"),
        ("--api-key=abc123 --verbose", "abc123"),
        ("https://x/y?api_key=abc123&page=2", "abc123"),
        ("api_key: str = 'sk12345678'", "sk12345678"),
        ("password = hunter2", "hunter2"),
        ("machine api.wandb.ai\n  login me\n  password 0123456789abcdef", "0123456789abcdef"),
        ("PIN_PASSWORD=12345678", "12345678"),
        ('"token": "a8f9e0d1c2b3"', "a8f9e0d1c2b3"),
        ('{"DB_PASSWORD": "p(a[s{s"}', "p(a[s{s"),
    ],
)
def test_values_of_secret_named_assignments_are_scrubbed(text, value):
    out = redact(text)
    assert value not in out
    assert "[REDACTED:assignment]" in out


def test_the_shape_around_a_scrubbed_value_is_kept():
    assert redact('{"DB_PASSWORD": "x", "port": 5432}') == (
        '{"DB_PASSWORD": "[REDACTED:assignment]", "port": 5432}'
    )
    assert redact("?token_secret=abc&page=2") == "?token_secret=[REDACTED:assignment]&page=2"


@pytest.mark.parametrize(
    "text",
    [
        "max_tokens: 512",
        "num_tokens=3",
        "max_new_tokens = 1024",
        "tokenizer = AutoTokenizer.from_pretrained(model_id)",
        "TOKENIZERS_PARALLELISM=false",
        "pad_token: <pad>",
        'eos_token = "</s>"',
        '"cls_token": "[CLS]"',
        "tokenizer.pad_token = tokenizer.eos_token",
        "eos_token_id: 2",
        "self.api_key = api_key",
        'hf_token = os.environ["HF_TOKEN"]',
        "sorted(rows, key=len)",
        '{"token": "hello", "id": 3}',
        '{"key": "train"}',
        "key_padding_mask=mask",
        "num_key_value_heads: 8",
        "use_auth_token=True",
        "token=None",
        "SSH_KEY_PATH=/home/me/.ssh/id_ed25519",
        "Enter your password below",
        "PWD=/home/me/project",
        "if key == other:",
        'secrets={"WANDB_API_KEY": "$WANDB_API_KEY"}',
        "api_key: ${OPENAI_API_KEY}",
        "password: ********",
    ],
)
def test_ml_text_with_secret_sounding_names_survives(text):
    assert redact(text) == text


def test_environment_secrets_are_scrubbed_in_json_and_url_forms(monkeypatch):
    secret = 'wJalr/K7MD"x\\y z'
    monkeypatch.setenv("MYAPP_SECRET", secret)
    for printed in (
        '{"v": "wJalr/K7MD\\"x\\\\y z"}',
        '"wJalr\\/K7MD\\"x\\\\y z"',
        "q=wJalr%2FK7MD%22x%5Cy%20z",
        "q=wJalr/K7MD%22x%5Cy%20z",
        "q=wJalr%2FK7MD%22x%5Cy+z",
    ):
        out = redact(printed)
        assert "K7MD" not in out, printed
        assert "[REDACTED:env:MYAPP_SECRET]" in out


# -- streams scrubbed line by line ----------------------------------------------------------


def scrub_lines(lines, **options):
    scrubber = LineScrubber(**options)
    out = [piece for line in lines for piece in scrubber.feed(line)]
    return out + scrubber.flush()


KEY = [
    "-----BEGIN RSA PRIVATE KEY-----\n",
    "Proc-Type: 4,ENCRYPTED\n",
    "MIIEowIBAAKCAQEAkeyBodyLine1\n",
    "c2Vjb25kS2V5Qm9keUxpbmU=\n",
    "-----END RSA PRIVATE KEY-----\n",
]


def test_a_private_key_over_many_lines_leaves_as_one_marker():
    out = scrub_lines(["starting\n", *KEY, f"token {HF}\n", "done\n"])
    assert out == [
        "starting\n",
        "[REDACTED:private_key]\n",
        "token [REDACTED:hf_token]\n",
        "done\n",
    ]


def test_a_key_cut_short_is_let_go_scrubbed():
    assert scrub_lines(KEY[:3]) == ["[REDACTED:private_key]\n"]  # the stream ended
    assert scrub_lines([*KEY[:3], "Traceback (most recent call last):\n"]) == [
        "[REDACTED:private_key]\n",
        "Traceback (most recent call last):\n",
    ]


def test_a_begin_without_end_is_not_held_forever():
    body = ["QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=\n"] * 50
    scrubber = LineScrubber(max_held=10)
    out = [piece for line in [KEY[0], *body] for piece in scrubber.feed(line)]
    assert out == ["[REDACTED:private_key]\n"]  # let go at the cap; later body lines dropped
    out += scrubber.feed("next message\n")
    assert out[-1] == "next message\n"
    assert not any("QUJD" in piece for piece in out)


def test_extra_secrets_apply_to_streams():
    assert scrub_lines(["pw hunter2!\n"], extra_secrets=["hunter2!"]) == ["pw [REDACTED:secret]\n"]


def test_environment_secret_names_include_pass_and_credential(monkeypatch):
    monkeypatch.setenv("MYSERVICE_PASS", "opaque-value-1")
    monkeypatch.setenv("DB_CREDENTIAL", "opaque-value-22")
    monkeypatch.setenv("COMPASS_HEADING", "north-north-west")
    out = redact("opaque-value-1 opaque-value-22 north-north-west")
    assert out == ("[REDACTED:env:MYSERVICE_PASS] [REDACTED:env:DB_CREDENTIAL] north-north-west")


# -- the corpus of secret shapes -------------------------------------------------------------


@pytest.mark.parametrize("label", sorted(corpus.CORPUS))
def test_every_shape_of_the_corpus_is_scrubbed(label):
    out = redact(corpus.CORPUS[label])
    assert corpus.leaked(out) == []
    assert "[REDACTED:" in out


def test_the_corpus_is_scrubbed_as_a_stream_too():
    lines = [line + "\n" for line in corpus.TEXT.splitlines()]
    assert corpus.leaked("".join(scrub_lines(lines))) == []


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("postgresql://admin:pw123456@db:5432/app", "postgresql://admin:"),
        ("redis://:pw123456@cache:6379", "redis://:"),
        ("https://oauth2:tok3nvalue@gitlab.com/a.git", "@gitlab.com/a.git"),
        ("Cookie: session=abc123def456; theme=dark", "Cookie: "),
        ("curl -u alice:pw123456 https://x", "curl -u alice:"),
    ],
)
def test_a_credential_in_a_url_or_header_keeps_what_is_around_it(text, kept):
    out = redact(text)
    assert "pw123456" not in out and "tok3nvalue" not in out and "abc123def456" not in out
    assert kept in out


def test_a_password_with_an_at_sign_goes_whole():
    out = redact("mysql://root:p@ss-w0rd@db.example.com/x")
    assert "ss-w0rd" not in out
    assert out.endswith("@db.example.com/x")


@pytest.mark.parametrize(
    "text",
    [
        "see https://huggingface.co:443/docs and http://localhost:8000/v1",
        "git@github.com:org/repo.git and ssh://git@github.com/org/repo",
        "docker run -u 1000:1000 image; python -u train.py",
        "the Cookie: header carries the session",
        "a JWT starts with eyJ and has three parts",
        "https://docs.example.com/webhooks/overview",
        "ratio 12345678:AB and 10:AA",
        "email me at alice@example.com",
    ],
)
def test_urls_and_headers_without_credentials_survive(text):
    assert redact(text) == text


def test_environment_urls_with_a_password_and_webhooks_are_secret(monkeypatch):
    password = "Zk8-" + "pQ2x" * 3
    hook_token = "hOoK" + "7tYu" * 5
    monkeypatch.setenv("DATABASE_URL", f"postgresql://admin:{password}@db/app")
    monkeypatch.setenv("CACHE_URI", f"redis://:{password}x@cache:6379")
    monkeypatch.setenv("TEAM_WEBHOOK_URL", f"https://chat.example.com/hook/{hook_token}")
    out = redact(f"password={password}, redis {password}x, {os.environ['TEAM_WEBHOOK_URL']}")
    for secret in (password, hook_token):
        assert secret not in out
    assert "[REDACTED:env:DATABASE_URL]" in out
    assert "[REDACTED:env:TEAM_WEBHOOK_URL]" in out


def test_cookie_headers_in_dicts_are_scrubbed_whole():
    out = redact_obj({"headers": {"Cookie": "a=b", "Set-Cookie": "c=d; Path=/"}})
    assert out == {
        "headers": {"Cookie": "[REDACTED:cookie]", "Set-Cookie": "[REDACTED:set-cookie]"}
    }


def test_every_private_key_kind_is_scrubbed():
    for kind in ("RSA ", "EC ", "DSA ", "OPENSSH ", "ENCRYPTED ", "", "PGP "):
        end = " BLOCK" if kind == "PGP " else ""
        block = f"-----BEGIN {kind}PRIVATE KEY{end}-----\nQUJD{FILL}\n-----END {kind}PRIVATE KEY{end}-----"
        assert redact(f"x\n{block}\ny") == "x\n[REDACTED:private_key]\ny", kind


def test_a_pgp_key_with_armor_headers_leaves_a_stream_as_one_marker():
    block = ["-----BEGIN PGP PRIVATE KEY BLOCK-----\n", "Version: GnuPG v2\n", "\n"]
    block += [f"lQWGBGZ{FILL}\n", "=Xq7A\n", "-----END PGP PRIVATE KEY BLOCK-----\n"]
    assert scrub_lines(["gpg --export-secret-keys\n", *block, "Error: done\n"]) == [
        "gpg --export-secret-keys\n",
        "[REDACTED:private_key]\n",
        "Error: done\n",
    ]


def test_a_dsn_in_the_environment_is_secret_whole(monkeypatch):
    dsn = "https://" + "a1b2c3d4" * 4 + "@o1.ingest.example.io/42"
    monkeypatch.setenv("SENTRY_DSN", dsn)
    assert redact(f"dsn={dsn}") == "dsn=[REDACTED:env:SENTRY_DSN]"


def test_names_that_only_contain_a_secret_word_keep_their_values(monkeypatch):
    monkeypatch.setenv("COOKIECUTTER_CONFIG", "/home/me/.cookiecutterrc")
    monkeypatch.setenv("SESSION_COOKIE", "sid-" + FILL[:12])
    out = redact(f"/home/me/.cookiecutterrc sid-{FILL[:12]}")
    assert out == "/home/me/.cookiecutterrc [REDACTED:env:SESSION_COOKIE]"
