// Package livetest exercises the chatdb client against a running ChatDB server. Its tests
// skip unless the environment names one:
//
//	CHATDB_LIVE_ADDR     the server's address, host:port
//	CHATDB_LIVE_API_KEY  an operator key (each test acts for a tenant of its own)
//	CHATDB_LIVE_SHOP     the path of a SQLite copy of the sample shop database
//
// TestAWatchResumesAcrossAgedConnections needs a server without training workers whose
// connections age within seconds, and CHATDB_LIVE_AGING=1 to say it has one.
// tests/integration/clients/test_go_sdk.py starts such servers and runs these tests.
package livetest
