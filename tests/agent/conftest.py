from tests.support.fixtures import _llm_server_session, llm_server, scripted_llm  # noqa: F401
