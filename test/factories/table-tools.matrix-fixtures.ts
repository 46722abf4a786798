import { SavedViewsRepository } from '../../src/monitoring/saved-views.repository';
import type { MatrixFixtures } from './matrix-fixtures';

let seq = 0;

/** A saved Operations view of the user's: a new one each call, since deleting one uses it up. */
export const matrixFixtures: MatrixFixtures = {
  saved_view: {
    owner: 'user',
    make: async (ctx) => {
      const views = ctx.t.get<SavedViewsRepository>(SavedViewsRepository);
      const name = `Matrix view ${++seq} ${Math.random().toString(36).slice(2, 8)}`;
      await views.save(ctx.user.id, name, 'status=failed');
      const [row] = await ctx.t.dataSource.query(
        'SELECT id FROM saved_run_views WHERE user_id = ? AND name = ?',
        [ctx.user.id, name],
      );
      if (!row) throw new Error('saved view not stored');
      return Number(row.id);
    },
  },
};
