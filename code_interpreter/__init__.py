"""The heart of the toolkit: the R1-CI protocol, sandboxes that run model-written code, and the episode loop."""

from code_interpreter.generation import get_generator
from code_interpreter.protocol import ProtocolConfig, extract_answer
from code_interpreter.sandboxes import ExecutionResult, Sandbox, get_sandbox

__all__ = ["ExecutionResult", "ProtocolConfig", "Sandbox", "extract_answer", "get_generator", "get_sandbox"]
