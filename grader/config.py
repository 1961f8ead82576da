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
    llm: LLMSettings = Field(default_factory=LLMSettings)


def config_path() -> Path:
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    from platformdirs import user_config_dir

    return Path(user_config_dir("grader")) / "config.toml"


def load_settings(path: Path | None = None, overrides: dict[str, Any] | None = None) -> Settings:
    path = path or config_path()
    data: dict[str, Any] = {}
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    llm = dict(data.get("llm", {}))
    for env, field in _ENV_FIELDS.items():
        if os.environ.get(env):
            llm[field] = os.environ[env]
    if "api_key" not in llm and os.environ.get("OPENAI_API_KEY"):
        llm["api_key"] = os.environ["OPENAI_API_KEY"]
    if os.environ.get("GRADER_JUDGE"):
        data["judge"] = os.environ["GRADER_JUDGE"]
    for k, v in (overrides or {}).items():
        if v is not None:
            llm[k] = v
    data["llm"] = llm
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        raise ConfigError(f"{path}: {field}: {err['msg']}") from None
