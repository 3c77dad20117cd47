"""Made-up secrets in the shapes scrubbing must catch, for tests of every channel.

None of them is real. Each is built by joining pieces at run time, so the source holds
no string a secret scanner would take for a live credential. `CORPUS` maps a label to
a line as a program or a person would print it; `SECRETS` maps the same label to the
part of that line that must never leave the process.
"""

from __future__ import annotations


def _j(*parts: str) -> str:
    return "".join(parts)


FILL = "Xq7" * 20  # an opaque, made-up body: letters and digits
PW = _j("s3cr", "etPw", "-Zq9x")
JWT = ".".join(
    (_j("eyJ", "hbGciOiJIUzI1NiJ9"), _j("eyJ", "zdWIiOiJtYWRldXAiLCJuIjoxfQ"), FILL[:43])
)
PGP_BODY = ["lQWGBGZ" + FILL[:57], "AAAAAAf" + FILL[3:60], "=" + FILL[:4]]
TELEGRAM = _j("123456789", ":AA", FILL[:33])
AZURE_CLIENT = _j("abc", "8Q~", FILL[:34])

SECRETS: dict[str, str] = {
    "postgres_password": _j("pg", PW),
    "mongo_password": _j("mg", PW),
    "redis_password": _j("rd", PW),
    "gitlab_oauth": _j("glpat", "-", FILL[:20]),
    "jwt": JWT,
    "pgp_body": PGP_BODY[0],
    "gitlab_pat": _j("glpat", "-", FILL[5:25]),
    "stripe_live": _j("sk", "_live_", FILL[:30]),
    "stripe_restricted": _j("rk", "_live_", FILL[1:31]),
    "npm": _j("npm", "_", FILL[:36]),
    "pypi": _j("pypi", "-AgE", "IcHlwaS5vcmc", FILL[:40]),
    "groq": _j("gsk", "_", FILL[:52]),
    "replicate": _j("r8", "_", FILL[:37]),
    "google_oauth": _j("ya29", ".", FILL[:40]),
    "telegram": TELEGRAM,
    "cookie": _j("sess", "ion=", FILL[:24]),
    "set_cookie": _j("sid=", FILL[2:26]),
    "curl_user": _j("cu", PW),
    "github_fine_grained": _j("github", "_pat_", "11A", FILL[:50]),
    "hf": _j("hf", "_", FILL[:34]),
    "slack_webhook": _j("T0", "1ABCDEF/B0", "2GHIJKL/", FILL[:24]),
    "azure_client_secret": AZURE_CLIENT,
    "azure_account_key": _j(FILL[:40], "=="),
    "aws_secret": _j("wJal", FILL[:36]),
}

CORPUS: dict[str, str] = {
    "postgres_password": f"postgresql://admin:{SECRETS['postgres_password']}@db.internal:5432/app",
    "mongo_password": f"mongodb+srv://root:{SECRETS['mongo_password']}@cluster0.example.net/x",
    "redis_password": f"redis://:{SECRETS['redis_password']}@cache.internal:6379/0",
    "gitlab_oauth": f"git clone https://oauth2:{SECRETS['gitlab_oauth']}@gitlab.com/team/repo.git",
    "jwt": f"session token {SECRETS['jwt']} expires soon",
    "pgp_body": "\n".join(
        [
            "-----BEGIN PGP PRIVATE KEY BLOCK-----",
            "",
            *PGP_BODY,
            "-----END PGP PRIVATE KEY BLOCK-----",
        ]
    ),
    "gitlab_pat": f"GITLAB={SECRETS['gitlab_pat']}",
    "stripe_live": f"stripe key {SECRETS['stripe_live']}",
    "stripe_restricted": f"restricted {SECRETS['stripe_restricted']}",
    "npm": f"//registry.npmjs.org/:_authToken={SECRETS['npm']}",
    "pypi": f"twine upload -p {SECRETS['pypi']} dist/*",
    "groq": f"groq: {SECRETS['groq']}",
    "replicate": f"REPLICATE={SECRETS['replicate']}",
    "google_oauth": f"access {SECRETS['google_oauth']}",
    "telegram": f"https://api.telegram.org/bot{SECRETS['telegram']}/getMe",
    "cookie": f"Cookie: {SECRETS['cookie']}; theme=dark",
    "set_cookie": f"Set-Cookie: {SECRETS['set_cookie']}; Path=/; HttpOnly",
    "curl_user": f"curl -u alice:{SECRETS['curl_user']} https://api.example.com",
    "github_fine_grained": f"gh auth with {SECRETS['github_fine_grained']}",
    "hf": f"hub login {SECRETS['hf']}",
    "slack_webhook": f"posting to https://hooks.slack.com/services/{SECRETS['slack_webhook']}",
    "azure_client_secret": f"client secret {SECRETS['azure_client_secret']} for the app",
    "azure_account_key": (
        "DefaultEndpointsProtocol=https;AccountName=acct;"
        f"AccountKey={SECRETS['azure_account_key']};EndpointSuffix=core.windows.net"
    ),
    "aws_secret": f"aws_secret_access_key = {SECRETS['aws_secret']}",
}

TEXT = "\n".join(CORPUS.values())


def leaked(text: str) -> list[str]:
    """The labels of the corpus secrets found in `text`."""
    return [label for label, secret in SECRETS.items() if secret in text]
