"""A local HTTP server that speaks the part of the Hugging Face Hub API that huggingface_hub and
datasets use to create repos, commit files (regular and LFS), branch, tag, list, resolve and download.

Tests point `HF_ENDPOINT` at it (with `HF_HUB_DISABLE_XET=1`) and drive the real clients, so our
Hub code is exercised end to end without the network. Everything is kept in memory. Repos, files
and commits behave like the Hub's where the clients can tell: a commit with no change is refused
by the client itself (it compares the `oid`s that `preupload` returns), `resolve` sends the
`ETag` / `X-Repo-Commit` / `X-Linked-*` headers `hf_hub_download` checks, and a missing repo, path
or revision is a 404 with the Hub's `X-Error-Code`.

`fail_next(n, status)` makes the next n requests fail with `status` (to test retries); with
`path=` only requests whose path contains it count. `requests` records every (method, path) seen.
`put_files(type, repo_id, files)` commits files straight into a repo (created if needed), for
seeding a repo with many files, or with names no client would upload (`../x`), in no time.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlparse

#: File suffixes that the Hub's default .gitattributes stores through LFS.
LFS_SUFFIXES = (".parquet", ".safetensors", ".bin", ".png", ".arrow", ".pt", ".gz", ".zip")
USER = "tester"
REPO_TYPES = {"models": "model", "datasets": "dataset", "spaces": "space"}


def git_blob_oid(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class StoredFile:
    data: bytes
    lfs: bool

    @property
    def oid(self) -> str:
        """What `preupload` reports: sha256 of the content for LFS files, the git blob id otherwise."""
        return hashlib.sha256(self.data).hexdigest() if self.lfs else git_blob_oid(self.data)


@dataclass
class Commit:
    oid: str
    parent: str | None
    title: str
    message: str
    files: dict[str, StoredFile]
    date: str


@dataclass
class Repo:
    type: str
    id: str
    private: bool
    commits: dict[str, Commit] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)

    def resolve(self, rev: str) -> Commit | None:
        rev = unquote(rev)
        oid = self.branches.get(rev) or self.tags.get(rev) or (rev if rev in self.commits else None)
        return self.commits.get(oid) if oid else None

    def history(self, commit: Commit) -> list[Commit]:
        out = [commit]
        while out[-1].parent:
            out.append(self.commits[out[-1].parent])
        return out


class HubState:
    def __init__(self) -> None:
        self.repos: dict[tuple[str, str], Repo] = {}
        self.lfs: dict[str, bytes] = {}
        self.lock = threading.Lock()
        self.requests: list[tuple[str, str]] = []
        self.failures: list[tuple[int, str | None]] = []
        self.tokens_seen: set[str] = set()

    def fail_next(self, n: int, status: int = 503, path: str | None = None) -> None:
        self.failures.extend([(status, path)] * n)

    def take_failure(self, path: str) -> int | None:
        with self.lock:
            for i, (status, where) in enumerate(self.failures):
                if where is None or where in path:
                    del self.failures[i]
                    return status
        return None

    def put_files(
        self, type_: str, repo_id: str, files: dict[str, bytes], title: str = "seed", lfs_over: int = 10_000_000
    ) -> str:
        """Commit `files` ({repo path: bytes}) on main of the repo (created if needed); returns the commit id."""
        with self.lock:
            repo = self.repos.get((type_, repo_id)) or self.new_repo(type_, repo_id, private=False)
            parent = repo.commits[repo.branches["main"]]
            stored = dict(parent.files)
            for path, data in files.items():
                lfs = path.endswith(LFS_SUFFIXES) or len(data) > lfs_over
                stored[path] = StoredFile(data, lfs)
                if lfs:
                    self.lfs[hashlib.sha256(data).hexdigest()] = data
            oid = _oid(f"{parent.oid}:{title}:{time.time_ns()}")
            repo.commits[oid] = Commit(oid, parent.oid, title, "", stored, _now())
            repo.branches["main"] = oid
            return oid

    def new_repo(self, type_: str, repo_id: str, private: bool) -> Repo:
        repo = Repo(type_, repo_id, private)
        first = Commit(_oid(f"init:{type_}:{repo_id}"), None, "initial commit", "", {}, _now())
        if type_ != "space":
            first.files[".gitattributes"] = StoredFile(b"*.parquet filter=lfs diff=lfs merge=lfs -text\n", False)
        repo.commits[first.oid] = first
        repo.branches["main"] = first.oid
        self.repos[(type_, repo_id)] = repo
        return repo


def _oid(seed: str) -> str:
    return hashlib.sha1(seed.encode()).hexdigest()


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        pass

    # -- plumbing -------------------------------------------------------------------------------
    @property
    def state(self) -> HubState:
        return self.server.state

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(
        self, status: int, payload: object = None, headers: dict[str, str] | None = None, raw: bytes | None = None
    ):
        body = raw if raw is not None else (b"" if payload is None else json.dumps(payload).encode())
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if raw is None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _error(self, status: int, message: str, code: str | None = None) -> None:
        headers = {"X-Error-Message": message}
        if code:
            headers["X-Error-Code"] = code
        self._send(status, {"error": message}, headers)

    def _dispatch(self) -> None:
        url = urlparse(self.path)
        path, query = unquote(url.path), parse_qs(url.query)
        self.state.requests.append((self.command, path))
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            self.state.tokens_seen.add(auth.removeprefix("Bearer "))
        failure = self.state.take_failure(path)
        if failure:
            self._body()
            return self._error(failure, "injected failure")
        try:
            with self.state.lock:
                self._route(path, query)
        except BrokenPipeError:
            pass

    do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = _dispatch

    # -- routes ---------------------------------------------------------------------------------
    def _route(self, path: str, query: dict[str, list[str]]) -> None:
        parts = [p for p in path.split("/") if p]
        m = self.command
        if path == "/api/whoami-v2":
            return self._send(
                200,
                {
                    "type": "user",
                    "name": USER,
                    "orgs": [{"name": "org", "type": "org"}],
                    "auth": {"accessToken": {"displayName": "test", "role": "write"}},
                },
            )
        if path == "/api/repos/create" and m == "POST":
            return self._create_repo(json.loads(self._body() or b"{}"))
        if path == "/api/validate-yaml" and m == "POST":
            self._body()
            return self._send(200, {"errors": [], "warnings": []})
        if path.startswith("/lfs-objects/") and m == "PUT":
            data = self._body()
            self.state.lfs[hashlib.sha256(data).hexdigest()] = data
            return self._send(200, {})
        if len(parts) >= 3 and parts[0] == "api" and parts[1] in REPO_TYPES:
            return self._api(REPO_TYPES[parts[1]], parts[2:], query)
        if path.endswith(".git/info/lfs/objects/batch") and m == "POST":
            return self._lfs_batch(json.loads(self._body()))
        return self._resolve(parts)

    def _repo(self, type_: str, repo_id: str) -> Repo | None:
        repo = self.state.repos.get((type_, repo_id))
        if repo is None:
            self._error(404, f"Repository {repo_id} not found", "RepoNotFound")
        return repo

    def _create_repo(self, body: dict) -> None:
        type_ = body.get("type") or "model"
        repo_id = f"{body['organization']}/{body['name']}" if body.get("organization") else f"{USER}/{body['name']}"
        prefix = "" if type_ == "model" else f"{type_}s/"
        url = f"{self.server.url}/{prefix}{repo_id}"
        if (type_, repo_id) in self.state.repos:
            return self._send(409, {"error": "You already created this repo", "url": url})
        self.state.new_repo(type_, repo_id, bool(body.get("private")))
        return self._send(200, {"url": url, "name": repo_id, "id": repo_id})

    def _api(self, type_: str, rest: list[str], query: dict[str, list[str]]) -> None:
        # rest: owner, name, [action, rev, *path]
        if len(rest) < 2:
            return self._error(404, "not found")
        repo = self._repo(type_, f"{rest[0]}/{rest[1]}")
        if repo is None:
            return None
        action, args = (rest[2], rest[3:]) if len(rest) > 2 else (None, [])
        m = self.command
        if action is None or action == "revision":
            commit = repo.resolve(args[0] if args else "main")
            return self._info(repo, commit) if commit else self._error(404, "Invalid rev id", "RevisionNotFound")
        if action == "preupload" and m == "POST":
            return self._preupload(repo, args[0], json.loads(self._body()))
        if action == "commit" and m == "POST":
            return self._commit(repo, args[0], self._body())
        if action == "tree":
            return self._tree(repo, args[0], "/".join(args[1:]), query)
        if action == "paths-info" and m == "POST":
            return self._paths_info(repo, args[0], self._body())
        if action == "refs":
            return self._send(
                200,
                {
                    "branches": [
                        {"name": k, "ref": f"refs/heads/{k}", "targetCommit": v} for k, v in repo.branches.items()
                    ],
                    "tags": [{"name": k, "ref": f"refs/tags/{k}", "targetCommit": v} for k, v in repo.tags.items()],
                    "converts": [],
                },
            )
        if action == "commits":
            commit = repo.resolve(args[0] if args else "main")
            if commit is None:
                return self._error(404, "Invalid rev id", "RevisionNotFound")
            return self._send(
                200,
                [
                    {"id": c.oid, "title": c.title, "message": c.message, "authors": [{"user": USER}], "date": c.date}
                    for c in repo.history(commit)
                ],
            )
        if action == "branch" and m == "POST":
            body = json.loads(self._body() or b"{}")
            start = repo.resolve(body.get("startingPoint") or "main")
            if args[0] in repo.branches:
                return self._error(409, "Reference already exists")
            if start is None:
                return self._error(404, "Invalid rev id", "RevisionNotFound")
            repo.branches[args[0]] = start.oid
            return self._send(200, {})
        if action == "tag" and m == "POST":
            body = json.loads(self._body() or b"{}")
            commit = repo.resolve(args[0])
            if commit is None:
                return self._error(404, "Invalid rev id", "RevisionNotFound")
            if body["tag"] in repo.tags:
                return self._error(409, "Tag already exists")
            repo.tags[body["tag"]] = commit.oid
            return self._send(200, {})
        return self._error(404, f"unsupported {m} {action}")

    def _info(self, repo: Repo, commit: Commit) -> None:
        siblings = [{"rfilename": p, "size": len(f.data)} for p, f in sorted(commit.files.items())]
        return self._send(
            200,
            {
                "id": repo.id,
                "_id": _oid(repo.id),
                "author": repo.id.split("/")[0],
                "sha": commit.oid,
                "private": repo.private,
                "disabled": False,
                "gated": False,
                "downloads": 0,
                "likes": 0,
                "tags": [],
                "siblings": siblings,
                "lastModified": commit.date,
                "createdAt": commit.date,
                "cardData": {},
            },
        )

    def _preupload(self, repo: Repo, rev: str, body: dict) -> None:
        commit = repo.resolve(rev)
        files = commit.files if commit else {}
        out = []
        for item in body["files"]:
            path = item["path"]
            lfs = path.endswith(LFS_SUFFIXES) or item["size"] > 10_000_000
            existing = files.get(path)
            out.append(
                {
                    "path": path,
                    "uploadMode": "lfs" if lfs else "regular",
                    "shouldIgnore": False,
                    "oid": existing.oid if existing else None,
                }
            )
        return self._send(200, {"files": out, "commitOid": commit.oid if commit else None})

    def _lfs_batch(self, body: dict) -> None:
        objects = []
        for obj in body.get("objects", []):
            entry = {"oid": obj["oid"], "size": obj["size"]}
            if obj["oid"] not in self.state.lfs:
                entry["actions"] = {"upload": {"href": f"{self.server.url}/lfs-objects/{obj['oid']}"}}
            objects.append(entry)
        return self._send(200, {"transfer": "basic", "objects": objects})

    def _commit(self, repo: Repo, rev: str, body: bytes) -> None:
        lines = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
        header = next(item["value"] for item in lines if item["key"] == "header")
        branch = unquote(rev)
        if branch not in repo.branches:
            return self._error(404, "Invalid rev id", "RevisionNotFound")
        parent = repo.commits[repo.branches[branch]]
        if header.get("parentCommit") and header["parentCommit"] != parent.oid:
            return self._error(412, "A commit has happened since. Please refresh and try again.")
        files = dict(parent.files)
        for item in lines:
            key, value = item["key"], item["value"]
            if key == "file":
                files[value["path"]] = StoredFile(base64.b64decode(value["content"]), False)
            elif key == "lfsFile":
                if value["oid"] not in self.state.lfs:
                    return self._error(422, f"LFS object {value['oid']} was never uploaded")
                files[value["path"]] = StoredFile(self.state.lfs[value["oid"]], True)
            elif key == "deletedFile":
                files.pop(value["path"], None)
            elif key == "deletedFolder":
                files = {p: f for p, f in files.items() if not p.startswith(value["path"].rstrip("/") + "/")}
        oid = _oid(f"{parent.oid}:{header['summary']}:{time.time_ns()}:{sorted((p, f.oid) for p, f in files.items())}")
        repo.commits[oid] = Commit(oid, parent.oid, header["summary"], header.get("description", ""), files, _now())
        repo.branches[branch] = oid
        prefix = "" if repo.type == "model" else f"{repo.type}s/"
        return self._send(
            200,
            {
                "commitUrl": f"{self.server.url}/{prefix}{repo.id}/commit/{oid}",
                "commitOid": oid,
                "pullRequestUrl": None,
            },
        )

    def _entry(self, path: str, f: StoredFile, expand: bool) -> dict:
        item = {"type": "file", "path": path, "size": len(f.data), "oid": git_blob_oid(f.data)}
        if f.lfs:
            item["lfs"] = {"oid": hashlib.sha256(f.data).hexdigest(), "size": len(f.data), "pointerSize": 134}
        if expand:
            item["lastCommit"] = None
        return item

    def _listing(self, commit: Commit, base: str, recursive: bool, expand: bool) -> list[dict] | None:
        base = base.strip("/")
        prefix = f"{base}/" if base else ""
        if base and base in commit.files:
            return [self._entry(base, commit.files[base], expand)]
        out, dirs = [], set()
        for path, f in sorted(commit.files.items()):
            if not path.startswith(prefix):
                continue
            rest = path[len(prefix) :]
            if "/" in rest:
                parts = rest.split("/")
                for depth in range(1, len(parts) if recursive else 2):
                    dirs.add(prefix + "/".join(parts[:depth]))
                if not recursive:
                    continue
            out.append(self._entry(path, f, expand))
        if base and not out and not dirs:
            return None
        return [{"type": "directory", "path": d, "oid": _oid(d), "size": 0} for d in sorted(dirs)] + out

    def _tree(self, repo: Repo, rev: str, path: str, query: dict[str, list[str]]) -> None:
        commit = repo.resolve(rev)
        if commit is None:
            return self._error(404, "Invalid rev id", "RevisionNotFound")
        recursive = query.get("recursive", ["false"])[0].lower() in ("1", "true")
        listing = self._listing(commit, path, recursive, query.get("expand", ["false"])[0].lower() in ("1", "true"))
        if listing is None:
            return self._error(404, f"{path} does not exist", "EntryNotFound")
        return self._send(200, listing)

    def _paths_info(self, repo: Repo, rev: str, body: bytes) -> None:
        commit = repo.resolve(rev)
        if commit is None:
            return self._error(404, "Invalid rev id", "RevisionNotFound")
        content_type = self.headers.get("Content-Type", "")
        if "json" in content_type:
            paths = json.loads(body)["paths"]
        else:
            paths = parse_qs(body.decode()).get("paths", [])
        out = []
        for p in paths:
            p = p.strip("/")
            if p in commit.files:
                out.append(self._entry(p, commit.files[p], False))
            elif any(f.startswith(p + "/") for f in commit.files):
                out.append({"type": "directory", "path": p, "oid": _oid(p), "size": 0})
        return self._send(200, out)

    def _resolve(self, parts: list[str]) -> None:
        type_ = "model"
        if parts and parts[0] in REPO_TYPES:
            type_, parts = REPO_TYPES[parts[0]], parts[1:]
        if len(parts) < 5 or parts[2] != "resolve":
            return self._error(404, "not found")
        repo = self._repo(type_, f"{parts[0]}/{parts[1]}")
        if repo is None:
            return None
        commit = repo.resolve(parts[3])
        if commit is None:
            return self._error(404, "Invalid rev id", "RevisionNotFound")
        path = "/".join(parts[4:])
        f = commit.files.get(path)
        if f is None:
            return self._error(404, f"{path} does not exist", "EntryNotFound")
        etag = hashlib.sha256(f.data).hexdigest() if f.lfs else git_blob_oid(f.data)
        headers = {"ETag": f'"{etag}"', "X-Repo-Commit": commit.oid, "Accept-Ranges": "bytes"}
        if f.lfs:
            headers.update({"X-Linked-Etag": f'"{etag}"', "X-Linked-Size": str(len(f.data))})
        return self._send(200, headers=headers, raw=f.data)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: HubState
    url: str


class HubServer:
    """`with HubServer() as hub:` serves on 127.0.0.1 at `hub.url`; `hub.state` holds repos and requests."""

    def __init__(self) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.state = self.state = HubState()
        self.url = self._server.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> HubServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
