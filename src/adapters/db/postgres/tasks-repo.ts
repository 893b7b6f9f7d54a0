/** Manual provisioning tasks, on PostgreSQL. */
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { TaskRecord } from '../../../domain/records.js';
import type { StoreTx } from '../../../operations/ports.js';
import { toTask, type TaskRow } from '../row-mappers.js';
import * as t from './schema.js';
import { textArray, type PgSession } from './session.js';

export class PgTasksRepo implements Pick<
  StoreTx,
  'getTask' | 'getTaskFor' | 'openTasks' | 'insertTask' | 'updateTask'
> {
  constructor(private readonly s: PgSession) {}

  async getTask(id: string): Promise<TaskRecord | undefined> {
    const query = this.s.db.select().from(t.tasks).where(eq(t.tasks.id, id));
    const [row] = this.s.inTransaction ? await query.for('update') : await query;
    return row && toTask(row);
  }

  async getTaskFor(grantId: string, action: 'grant' | 'revoke'): Promise<TaskRecord | undefined> {
    const query = this.s.db
      .select()
      .from(t.tasks)
      .where(and(eq(t.tasks.grantId, grantId), eq(t.tasks.action, action)));
    const [row] = this.s.inTransaction ? await query.for('update') : await query;
    return row && toTask(row);
  }

  async openTasks(assigneeGroups: readonly string[], limit: number): Promise<TaskRecord[]> {
    if (assigneeGroups.length === 0) return [];
    const rows = await this.s.db
      .select()
      .from(t.tasks)
      .where(and(eq(t.tasks.status, 'open'), sql`${t.tasks.assigneeGroup} = any(${textArray(assigneeGroups)})`))
      .orderBy(asc(t.tasks.createdAt))
      .limit(limit);
    return rows.map(toTask);
  }

  async insertTask(task: TaskRecord): Promise<void> {
    await this.s.db
      .insert(t.tasks)
      .values({
        id: task.id,
        grantId: task.grantId,
        action: task.action,
        assigneeGroup: task.assigneeGroup,
        status: task.status,
        createdAt: task.createdAt,
      })
      .onConflictDoNothing();
  }

  async updateTask(id: string, from: TaskRecord['status'][], patch: Partial<TaskRecord>): Promise<boolean> {
    const values: Partial<TaskRow> = {};
    if (patch.status) values.status = patch.status;
    if (patch.completedAt !== undefined) values.completedAt = patch.completedAt;
    if (patch.completedBy) {
      values.completedById = patch.completedBy.directoryId;
      values.completedByEmail = patch.completedBy.email;
      values.completedByName = patch.completedBy.name;
    }
    if (Object.keys(values).length === 0) return false;
    const result = await this.s.db
      .update(t.tasks)
      .set(values)
      .where(and(eq(t.tasks.id, id), inArray(t.tasks.status, from)));
    return result.rowCount === 1;
  }
}
