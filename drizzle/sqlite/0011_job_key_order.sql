DROP INDEX `jobs_key`;--> statement-breakpoint
ALTER TABLE `jobs` ADD `key_order` text GENERATED ALWAYS AS (substr(key, instr(key, '_') + 1, 9)) VIRTUAL;--> statement-breakpoint
CREATE UNIQUE INDEX `jobs_key` ON `jobs` (`key_order`,`key`);