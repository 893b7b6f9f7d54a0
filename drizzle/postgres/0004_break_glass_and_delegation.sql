CREATE TABLE "break_glass_reviews" (
	"grant_id" text PRIMARY KEY NOT NULL,
	"request_id" text NOT NULL,
	"reviewers" jsonb NOT NULL,
	"incident" text,
	"created_at" text NOT NULL,
	"due_at" text NOT NULL,
	"status" text NOT NULL,
	"reviewer_id" text,
	"reviewer_email" text,
	"reviewer_name" text,
	"reviewer_slack_id" text,
	"reason" text,
	"reviewed_at" text
);
--> statement-breakpoint
CREATE TABLE "delegations" (
	"id" text PRIMARY KEY NOT NULL,
	"delegator_id" text NOT NULL,
	"delegator_email" text NOT NULL,
	"delegator_name" text NOT NULL,
	"delegator_slack_id" text,
	"delegate_id" text NOT NULL,
	"delegate_email" text NOT NULL,
	"delegate_name" text NOT NULL,
	"delegate_slack_id" text,
	"starts_at" text NOT NULL,
	"ends_at" text NOT NULL,
	"status" text NOT NULL,
	"created_at" text NOT NULL,
	"ended_at" text,
	"ended_reason" text
);
--> statement-breakpoint
ALTER TABLE "approval_steps" ADD COLUMN "escalate_at" text;--> statement-breakpoint
ALTER TABLE "approval_steps" ADD COLUMN "escalated_at" text;--> statement-breakpoint
ALTER TABLE "approval_steps" ADD COLUMN "escalation_approvers" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "approval_steps" ADD COLUMN "next_reminder_at" text;--> statement-breakpoint
ALTER TABLE "approval_steps" ADD COLUMN "reminders_sent" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "decisions" ADD COLUMN "on_behalf_of_id" text;--> statement-breakpoint
ALTER TABLE "decisions" ADD COLUMN "on_behalf_of_email" text;--> statement-breakpoint
ALTER TABLE "decisions" ADD COLUMN "on_behalf_of_name" text;--> statement-breakpoint
ALTER TABLE "decisions" ADD COLUMN "on_behalf_of_slack_id" text;--> statement-breakpoint
ALTER TABLE "grants" ADD COLUMN "break_glass" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "break_glass_reviews" ADD CONSTRAINT "break_glass_reviews_grant_id_grants_id_fk" FOREIGN KEY ("grant_id") REFERENCES "public"."grants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "break_glass_reviews" ADD CONSTRAINT "break_glass_reviews_request_id_requests_id_fk" FOREIGN KEY ("request_id") REFERENCES "public"."requests"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "break_glass_reviews_due" ON "break_glass_reviews" USING btree ("status","due_at");--> statement-breakpoint
CREATE UNIQUE INDEX "delegations_one_active" ON "delegations" USING btree ("delegator_id") WHERE status = 'active';--> statement-breakpoint
CREATE INDEX "delegations_delegate" ON "delegations" USING btree ("delegate_id","status");--> statement-breakpoint
CREATE INDEX "delegations_status_ends" ON "delegations" USING btree ("status","ends_at");--> statement-breakpoint
CREATE INDEX "approval_steps_escalate" ON "approval_steps" USING btree ("status","escalate_at");--> statement-breakpoint
CREATE INDEX "approval_steps_remind" ON "approval_steps" USING btree ("status","next_reminder_at");--> statement-breakpoint
CREATE UNIQUE INDEX "decisions_one_per_delegator" ON "decisions" USING btree ("request_id","on_behalf_of_id") WHERE on_behalf_of_id is not null;