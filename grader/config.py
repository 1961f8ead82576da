"""Judge settings: defaults, then the config file, then environment variables, then options."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

CONFIG_ENV = "GRADER_CONFIG"
_ENV_FIELDS = {
    "GRADER_LLM_PROVIDER": "provider",
    "GRADER_LLM_MODEL": "model",
    "GRADER_LLM_BASE_URL": "base_url",
    "GRADER_LLM_API_KEY": "api_key",
    "GRADER_LLM_TIMEOUT": "timeout_s",
    "GRADER_LLM_RETRIES": "max_retries",
    "GRADER_LLM_SAMPLES": "samples",
}


class ConfigError(ValueError):
    pass


class LLMSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    provider: str = "openai"  # "openai" = any OpenAI-compatible endpoint; else a langchain provider
    model: str | None = None
    base_url: str | None = None
    api_key: SecretStr | None = Field(default=None, exclude=True)
    timeout_s: float = Field(default=60.0, gt=0)
    max_retries: int = Field(default=2, ge=0, le=10)
    temperature: float = Field(default=0.0, ge=0, le=2)
    sample_temperature: float = Field(default=0.7, ge=0, le=2)  # used when samples > 1
    samples: int = Field(default=1, ge=1, le=15)
    json_mode: bool = True
    price_input_per_mtok: float | None = Field(default=None, ge=0)
    price_output_per_mtok: float | None = Field(default=None, ge=0)

    @property
    def configured(self) -> bool:
        return bool(self.model)

    def public(self) -> dict[str, Any]:
        """What can change a grading, so identifies the judge in stored gradings and cache keys.
        Timeouts, retries, prices and the key cannot, and are left out."""
        return self.model_dump(mode="json", include={"provider", "model", "base_url", "samples", "json_mode"})


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    judge: Literal["offline", "llm"] | None = None  # None: llm when a model is configured
    lang: Literal["zh", "en"] | None = None  # language of screens and reports; None: the answer's
    llm: LLMSettings = Field(default_factory=LLMSettings)
    # Run candidates' code even where bubblewrap cannot isolate it: the code can then read and
    # change anything the user can (the config with its key, the store). Off by default.
    allow_unsandboxed_code: bool = False


MAX_CONFIG_BYTES = 1024 * 1024  # a config file is a few lines


def config_path() -> Path:
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    from platformdirs import user_config_dir

    return Path(user_config_dir("grader")) / "config.toml"


def _read_file(path: Path, named: str | None) -> dict[str, Any]:
    """The config file's table. The default file may be absent; a file the user named
    (GRADER_CONFIG, or a path given by the caller) must exist."""
    by = f" (named by {named})" if named else ""
    try:
        if path.stat().st_size > MAX_CONFIG_BYTES:
            raise ConfigError(f"{path}: too large for a config file{by}")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if named:
            raise ConfigError(f"{path}: no such config file{by}") from None
        return {}
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, not a config file{by}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: invalid TOML: not UTF-8 text") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file{by}: {exc.strerror or exc}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None


def load_settings(path: Path | None = None, overrides: dict[str, Any] | None = None) -> Settings:
    named = "the caller" if path else (CONFIG_ENV if os.environ.get(CONFIG_ENV) else None)
    path = path or config_path()
    data = _read_file(path, named)
    if not isinstance(data.get("llm", {}), dict):
        raise ConfigError(f"{path}: llm: must be a table ([llm])")
    llm = dict(data.get("llm", {}))
    # Where each value came from, so an invalid one is blamed on its real source.
    origin: dict[tuple[str, ...], str] = {}
    for env, field in _ENV_FIELDS.items():
        if os.environ.get(env):
            llm[field] = os.environ[env]
            origin[("llm", field)] = f"environment variable {env}"
    if "api_key" not in llm and os.environ.get("OPENAI_API_KEY"):
        llm["api_key"] = os.environ["OPENAI_API_KEY"]
        origin[("llm", "api_key")] = "environment variable OPENAI_API_KEY"
    for env, field in (("GRADER_JUDGE", "judge"), ("GRADER_LANG", "lang")):
        if os.environ.get(env):
            data[field] = os.environ[env]
            origin[(field,)] = f"environment variable {env}"
    for k, v in (overrides or {}).items():
        if v is not None:
            llm[k] = v
            origin[("llm", k)] = f"option --{k.replace('_', '-')}"
    data["llm"] = llm
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(str(p) for p in err["loc"])
        field = ".".join(loc)
        source = next((origin[loc[:n]] for n in range(len(loc), 0, -1) if loc[:n] in origin), None)
        where = f"{source} ({field})" if source else f"{path}: {field}"
        raise ConfigError(f"{where}: {err['msg']}") from None
