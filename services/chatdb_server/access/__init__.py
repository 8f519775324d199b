"""Identity and trust: who a caller is (API keys, tokens, certificates), what each role may do."""
