"""`r1ci demo` (run the app locally) and `r1ci space push` (deploy it as a Hugging Face Space)."""

from __future__ import annotations

import argparse
from typing import Any


def make_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("demo", help="chat with a model and watch its code run; browse transcripts")
    p.add_argument("--model", help="Hub model id or local folder (or the served name with --backend openai)")
    p.add_argument("--backend", choices=["transformers", "openai"], help="default: transformers")
    p.add_argument("--base-url", help="OpenAI-compatible endpoint, e.g. http://localhost:8000/v1")
    p.add_argument("--sandbox", choices=["local", "e2b"], help="default: local")
    p.add_argument("--dataset", help="dataset the Browse tab opens first (folder, transcripts.jsonl or Hub id)")
    p.add_argument("--temperature", type=float)
    p.add_argument("--max-code-calls", type=int)
    p.add_argument("--max-new-tokens", type=int)
    p.add_argument("--timeout", type=float, dest="timeout_s", help="seconds per code call (default 30)")
    p.add_argument("--concurrency", type=int, help="chat turns running at once (default 2)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0 to share on a network)")
    p.add_argument("--port", type=int, default=7860)
    p.set_defaults(func=main_demo)

    space = subparsers.add_parser("space", help="the Hugging Face Space")
    space.set_defaults(func=main_space)
    ssub = space.add_subparsers(dest="space_command", required=True)
    push = ssub.add_parser("push", help="upload spaces_demo/ (with the packages it imports) as a Space")
    push.add_argument("--repo", required=True, help="Space repo id, e.g. <user>/R1-CI-demo")
    push.add_argument("--model", help="the model the Space uses (written into the card's models:)")
    push.add_argument("--dataset", help="the dataset Browse opens first (written into the card's datasets:)")
    push.add_argument("--hardware", help="suggested hardware, e.g. t4-small, a10g-small, cpu-basic")
    push.add_argument("--private", action="store_true")


def main_demo(args: Any) -> int:
    from code_interpreter.generation import check_model_path
    from spaces_demo.app import DemoConfig, build_demo

    config = DemoConfig.from_env(
        model=args.model,
        backend=args.backend,
        base_url=args.base_url,
        sandbox=args.sandbox,
        dataset=args.dataset,
        temperature=args.temperature,
        max_code_calls=args.max_code_calls,
        max_new_tokens=args.max_new_tokens,
        timeout_s=args.timeout_s,
        concurrency=args.concurrency,
    )
    if config.backend == "transformers":
        check_model_path(config.model)  # a mistyped folder fails here, not at the first question
    build_demo(config).launch(server_name=args.host, server_port=args.port)
    return 0


def main_space(args: Any) -> int:
    from spaces_demo.space_repo import push_space

    result = push_space(args.repo, private=args.private, model=args.model, dataset=args.dataset, hardware=args.hardware)
    state = "new commit" if result.new_commit else "no change"
    print(f"Space {result.repo_id}: {state} {result.commit[:12]}; {result.url}")
    return 0
