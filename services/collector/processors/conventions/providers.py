"""Provider names onto the OTel `gen_ai.provider.name` vocabulary (reference §8.3)."""

from __future__ import annotations

_EXACT = {
    "openai": "openai",
    "azure.ai.openai": "azure.ai.openai",
    "az.ai.openai": "azure.ai.openai",
    "azure": "azure.ai.openai",
    "azure.ai.inference": "azure.ai.inference",
    "az.ai.inference": "azure.ai.inference",
    "azure_ai": "azure.ai.inference",
    "anthropic": "anthropic",
    "aws.bedrock": "aws.bedrock",
    "bedrock": "aws.bedrock",
    "amazon": "aws.bedrock",
    "aws": "aws.bedrock",
    "gcp.vertex_ai": "gcp.vertex_ai",
    "vertex_ai": "gcp.vertex_ai",
    "vertexai": "gcp.vertex_ai",
    "google-vertex": "gcp.vertex_ai",
    "google.vertex": "gcp.vertex_ai",
    "vertex.anthropic": "gcp.vertex_ai",
    "gcp.gemini": "gcp.gemini",
    "gemini": "gcp.gemini",
    "google.generative-ai": "gcp.gemini",
    "google": "gcp.gemini",
    "gcp.gen_ai": "gcp.gen_ai",
    "mistral_ai": "mistral_ai",
    "mistralai": "mistral_ai",
    "mistral": "mistral_ai",
    "x_ai": "x_ai",
    "xai": "x_ai",
    "ibm.watsonx.ai": "ibm.watsonx.ai",
    "ibm.watson.ai": "ibm.watsonx.ai",
    "watsonx": "ibm.watsonx.ai",
    "moonshot": "moonshot_ai",
    "moonshot_ai": "moonshot_ai",
}

# Vercel-style ids carry an API suffix (`openai.chat`); these prefixes span two segments.
_TWO_SEGMENT_PREFIXES = ("google.vertex", "google.generative-ai", "vertex.anthropic")
_VENDOR_PREFIXES = (("azure-openai", "azure.ai.openai"), ("amazon-bedrock", "aws.bedrock"))

_HOSTS = (
    ("api.openai.com", "openai"),
    (".openai.azure.com", "azure.ai.openai"),
    ("api.anthropic.com", "anthropic"),
    ("bedrock-runtime.", "aws.bedrock"),
    ("generativelanguage.googleapis.com", "gcp.gemini"),
    ("aiplatform.googleapis.com", "gcp.vertex_ai"),
    ("api.mistral.ai", "mistral_ai"),
    ("api.groq.com", "groq"),
    ("api.deepseek.com", "deepseek"),
    ("api.x.ai", "x_ai"),
)

_MODEL_PREFIXES = (
    (("gpt-", "o1", "o3", "o4", "text-embedding-", "chatgpt-", "davinci", "babbage"), "openai"),
    (("claude",), "anthropic"),
    (("gemini",), "gcp.gemini"),
    (("mistral", "mixtral", "codestral"), "mistral_ai"),
    (("command",), "cohere"),
    (("grok",), "x_ai"),
    (("deepseek",), "deepseek"),
)


def canonical_provider(raw: str) -> str:
    """The canonical provider for a raw value; unknown values come back lower-cased."""
    lowered = raw.strip().lower()
    if lowered in _EXACT:
        return _EXACT[lowered]
    for prefix, canonical in _VENDOR_PREFIXES:
        if lowered.startswith(prefix):
            return canonical
    for prefix in _TWO_SEGMENT_PREFIXES:
        if lowered.startswith(prefix + "."):
            return _EXACT[prefix]
    if lowered.startswith("azure."):
        return "azure.ai.inference"
    head = lowered.split(".", 1)[0]
    return _EXACT.get(head, head if "." in lowered else lowered)


def openinference_provider(system: str | None, provider: str | None) -> str | None:
    """OpenInference's pair: a hosting platform (azure/aws/google) qualified by `llm.system`."""
    system_l = system.lower() if system else None
    provider_l = provider.lower() if provider else None
    if provider_l == "azure":
        return "azure.ai.openai" if system_l in (None, "openai") else "azure.ai.inference"
    if provider_l == "aws":
        return "aws.bedrock"
    if provider_l == "google":
        return "gcp.vertex_ai" if system_l == "vertexai" else "gcp.gemini"
    chosen = system or provider
    return canonical_provider(chosen) if chosen else None


def provider_from_host(host: str) -> str | None:
    """The provider implied by a well-known API host name."""
    lowered = host.lower()
    for needle, canonical in _HOSTS:
        if needle in lowered:
            return canonical
    return None


def provider_from_model(model: str) -> str | None:
    """A last-resort guess of the provider from a model name."""
    lowered = model.lower().rsplit("/", 1)[-1]
    for prefixes, canonical in _MODEL_PREFIXES:
        if lowered.startswith(prefixes):
            return canonical
    return None
