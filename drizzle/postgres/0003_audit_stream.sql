CREATE TABLE "audit_checkpoints" (
	"seq" integer PRIMARY KEY NOT NULL,
	"hash" text NOT NULL,
	"at" text NOT NULL,
	"signature" text NOT NULL,
	"key_id" text NOT NULL,
	"event_seq" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "audit_sinks" (
	"name" text PRIMARY KEY NOT NULL,
	"delivered_seq" integer NOT NULL,
	"delivered_at" text,
	"failing_since" text,
	"failures" integer NOT NULL,
	"last_error" text,
	"alerted_at" text,
	"updated_at" text NOT NULL
);
