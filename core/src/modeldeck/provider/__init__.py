"""Model Studio: the deployments client (sync and async), its typed answers and its errors."""

from modeldeck.provider.base import Provider
from modeldeck.provider.body import build_create_body
from modeldeck.provider.client import (
    AsyncModelStudioClient,
    ModelStudioClient,
    compatible_mode_url,
    parse_retry_after,
)
from modeldeck.provider.errors import (
    ArrearageError,
    AuthenticationError,
    InvalidParameterError,
    ProviderConflict,
    ProviderConnectionError,
    ProviderError,
    ProviderNotFound,
    ProviderPermissionError,
    ProviderTimeout,
    ServerError,
    ThrottlingError,
)
from modeldeck.provider.factory import get_provider, make_client, sandbox_base_url
from modeldeck.provider.models import (
    CreateDeploymentRequest,
    DeployableModel,
    DeployableModelPage,
    DeployablePlan,
    DeploymentInfo,
    DeploymentPage,
    PlanTemplate,
    PrePaidInfo,
    PtuCapacity,
)

__all__ = [
    "ArrearageError",
    "AsyncModelStudioClient",
    "AuthenticationError",
    "CreateDeploymentRequest",
    "DeployableModel",
    "DeployableModelPage",
    "DeployablePlan",
    "DeploymentInfo",
    "DeploymentPage",
    "InvalidParameterError",
    "ModelStudioClient",
    "PlanTemplate",
    "PrePaidInfo",
    "Provider",
    "ProviderConflict",
    "ProviderConnectionError",
    "ProviderError",
    "ProviderNotFound",
    "ProviderPermissionError",
    "ProviderTimeout",
    "PtuCapacity",
    "ServerError",
    "ThrottlingError",
    "build_create_body",
    "compatible_mode_url",
    "get_provider",
    "make_client",
    "parse_retry_after",
    "sandbox_base_url",
]
