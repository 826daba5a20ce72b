BEGIN TRANSACTION;
CREATE TABLE monitoring (
	partner_id VARCHAR(32) NOT NULL, 
	chain_id BIGINT NOT NULL, 
	endpoints_json TEXT NOT NULL, 
	sla_json TEXT NOT NULL, 
	registered_at DATETIME NOT NULL, 
	PRIMARY KEY (partner_id, chain_id), 
	FOREIGN KEY(partner_id, chain_id) REFERENCES partners (partner_id, chain_id)
);
INSERT INTO "monitoring" VALUES('cafe-seoul',80002,'["http://127.0.0.1:8765/health"]','{"availability": 99.5, "benefit_apply_hours": 24, "error_rate": 0.005, "response_time_s": 2.0, "support_response_hours": 4}','2026-11-28 20:04:53.282428');
CREATE TABLE onboarding_steps (
	id INTEGER NOT NULL, 
	partner_id VARCHAR(32) NOT NULL, 
	chain_id BIGINT NOT NULL, 
	step VARCHAR(16) NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	detail TEXT, 
	gas_used BIGINT, 
	at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(partner_id, chain_id) REFERENCES partners (partner_id, chain_id), 
	CONSTRAINT uq_onboarding_steps_step UNIQUE (partner_id, chain_id, step), 
	CONSTRAINT ck_onboarding_steps_step CHECK (step IN ('validate', 'deploy', 'fund', 'monitor')), 
	CONSTRAINT ck_onboarding_steps_status CHECK (status IN ('done', 'failed'))
);
INSERT INTO "onboarding_steps" VALUES(1,'cafe-seoul',80002,'validate','done',NULL,NULL,'2026-11-28 20:04:53.204212');
INSERT INTO "onboarding_steps" VALUES(2,'cafe-seoul',80002,'deploy','done','0x1212121212121212121212121212121212121212121212121212121212121212',1234567,'2026-11-28 20:04:53.232700');
INSERT INTO "onboarding_steps" VALUES(3,'cafe-seoul',80002,'fund','done','0x1212121212121212121212121212121212121212121212121212121212121212',80000,'2026-11-28 20:04:53.256302');
INSERT INTO "onboarding_steps" VALUES(4,'cafe-seoul',80002,'monitor','done','monitoring 1 endpoints',NULL,'2026-11-28 20:04:53.291906');
INSERT INTO "onboarding_steps" VALUES(5,'cafe-seoul',137,'validate','done',NULL,NULL,'2026-11-28 20:04:53.327628');
INSERT INTO "onboarding_steps" VALUES(6,'zeta-bar',80002,'deploy','failed','nonce too low; it''s 7',NULL,'2026-11-28 20:04:53.368355');
CREATE TABLE partners (
	partner_id VARCHAR(32) NOT NULL, 
	chain_id BIGINT NOT NULL, 
	name VARCHAR(64) NOT NULL, 
	contract_address VARCHAR(42), 
	status VARCHAR(16) NOT NULL, 
	integration_time DATETIME, 
	config_json TEXT NOT NULL, 
	failure_reason TEXT, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	PRIMARY KEY (partner_id, chain_id), 
	CONSTRAINT ck_partners_status CHECK (status IN ('onboarding', 'active', 'failed'))
);
INSERT INTO "partners" VALUES('cafe-seoul',80002,'Hangang Roasters Seoul','0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed','active','2025-11-26 04:30:00.000000','{"partner_id":"cafe-seoul","name":"Hangang Roasters Seoul","api_endpoints":["http://127.0.0.1:8765/health"],"auth_method":"api_key","services":["coffee"],"benefit_structure":{"discount_bps":{"0":500,"3":2500}},"initial_benefits":{"token":"LBC","amount_per_cube":5000000000000000000},"claim_window_days":30}',NULL,'2026-11-28 20:04:53.134828','2026-11-28 20:04:53.282428');
INSERT INTO "partners" VALUES('cafe-seoul',137,'Hangang Roasters Seoul',NULL,'onboarding',NULL,'{"partner_id":"cafe-seoul","name":"Hangang Roasters Seoul","api_endpoints":["http://127.0.0.1:8765/health"],"auth_method":"api_key","services":["coffee"],"benefit_structure":{"discount_bps":{"0":500,"3":2500}},"initial_benefits":{"token":"LBC","amount_per_cube":5000000000000000000},"claim_window_days":30}',NULL,'2026-11-28 20:04:53.303481','2026-11-28 20:04:53.303481');
INSERT INTO "partners" VALUES('zeta-bar',80002,'Zeta Bar — Café Ünïcode 서울',NULL,'failed',NULL,'{"partner_id":"zeta-bar","name":"Zeta Bar — Café Ünïcode 서울","api_endpoints":["http://127.0.0.1:8765/health"],"auth_method":"api_key","services":["coffee"],"benefit_structure":{"discount_bps":{"0":500,"3":2500}},"initial_benefits":{"token":"LBC","amount_per_cube":5000000000000000000},"claim_window_days":30}','deploy reverted: ''NotAdmin()''','2026-11-28 20:04:53.347330','2026-11-28 20:04:53.390792');
INSERT INTO "partners" VALUES('tea-house',80002,'Tea House',NULL,'onboarding',NULL,'{"partner_id":"tea-house","name":"Tea House","api_endpoints":["http://127.0.0.1:8765/health"],"auth_method":"api_key","services":["coffee"],"benefit_structure":{"discount_bps":{"0":500,"3":2500}},"initial_benefits":{"token":"LBC","amount_per_cube":5000000000000000000},"claim_window_days":30}',NULL,'2026-11-28 20:04:53.414156','2026-11-28 20:04:53.414156');
CREATE TABLE relayed_messages (
	message_id VARCHAR(66) NOT NULL, 
	src_chain_id BIGINT NOT NULL, 
	src_messenger VARCHAR(42) NOT NULL, 
	sender VARCHAR(42) NOT NULL, 
	dst_chain_id BIGINT NOT NULL, 
	receiver VARCHAR(42) NOT NULL, 
	nonce BIGINT NOT NULL, 
	payload_hex TEXT NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	attempts INTEGER NOT NULL, 
	tx_hash VARCHAR(66), 
	last_error TEXT, 
	seen_at DATETIME NOT NULL, 
	delivered_at DATETIME, 
	PRIMARY KEY (message_id), 
	CONSTRAINT ck_relayed_messages_status CHECK (status IN ('pending', 'delivered'))
);
INSERT INTO "relayed_messages" VALUES('0x8f27e90e8763bd2e1f06f5676a0812f9bddce267b6f9e8730fbf7b153d7d987b',137,'0x1111111111111111111111111111111111111111','0x2222222222222222222222222222222222222222',1,'0x3333333333333333333333333333333333333333',0,'01010101010101010101010101010101010101010101010101010101010101010101010101010101','delivered',0,'0xabababababababababababababababababababababababababababababababab',NULL,'2026-11-28 20:04:53.438136','2026-11-28 20:04:53.512588');
INSERT INTO "relayed_messages" VALUES('0xa49f85eb406b41aaff6443dc45725528f2194ca8afe332d5037f2378844cbe35',137,'0x1111111111111111111111111111111111111111','0x2222222222222222222222222222222222222222',1,'0x3333333333333333333333333333333333333333',1,'02020202020202020202020202020202020202020202020202020202020202020202020202020202','pending',2,NULL,'LimitExceeded(route=1, it''s over)','2026-11-28 20:04:53.438136',NULL);
INSERT INTO "relayed_messages" VALUES('0x7d15ed03975376b229a2690c534fdc2a2cd8e8c5c424d5dc945e2ee3ad22b9a0',137,'0x1111111111111111111111111111111111111111','0x2222222222222222222222222222222222222222',1,'0x3333333333333333333333333333333333333333',2,'03030303030303030303030303030303030303030303030303030303030303030303030303030303','pending',0,NULL,NULL,'2026-11-28 20:04:53.438136',NULL);
INSERT INTO "relayed_messages" VALUES('0xe097e552fe361a75341307b28baa109ad9209193ada5784bd40bce37d127be48',1,'0x4444444444444444444444444444444444444444','0x2222222222222222222222222222222222222222',137,'0x3333333333333333333333333333333333333333',0,'01010101010101010101010101010101010101010101010101010101010101010101010101010101','pending',0,NULL,NULL,'2026-11-28 20:04:53.493897',NULL);
CREATE TABLE relayer_cursors (
	chain_id BIGINT NOT NULL, 
	messenger VARCHAR(42) NOT NULL, 
	next_block BIGINT NOT NULL, 
	updated_at DATETIME NOT NULL, 
	PRIMARY KEY (chain_id, messenger)
);
INSERT INTO "relayer_cursors" VALUES(137,'0x1111111111111111111111111111111111111111',101,'2026-11-28 20:04:53.438136');
INSERT INTO "relayer_cursors" VALUES(1,'0x4444444444444444444444444444444444444444',55,'2026-11-28 20:04:53.493897');
COMMIT;
