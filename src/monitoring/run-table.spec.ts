import fc from 'fast-check';
import hbs from 'hbs';
import { escapeHtml } from '../web';
import { keptRow, rowHtml, rowsHtml, type RowText } from './run-table';

/**
 * The row markup as the list's template wrote it before the rows were built in code: the code must
 * write the same cells, escaped the same way, for any text a run, a producer or a user name holds.
 */
const TEMPLATE_ROW = hbs.handlebars.compile(`{{#each runs}}<tr>
{{#if ../showTenant}}<td data-label="Tenant"><a href="/admin/t/{{tenantSlug}}/operations">{{tenantName}}</a></td>{{/if}}
<td data-label="Run">{{#if ../bulk}}<input type="checkbox" class="select-box" name="run_ids" value="{{id}}" form="bulk-form" aria-label="Select run #{{id}}">{{/if}}<a href="{{href}}">#{{id}}</a></td>
<td data-label="Type"><a href="{{href}}">{{label}}</a><br><small class="muted"><code>{{type}}</code></small></td>
<td data-label="Target">{{#if target}}{{target}}{{else}}<span class="muted">—</span>{{/if}}</td>
<td data-label="Status"><span class="badge badge-{{badgeClass}}" title="Raw status: {{status}}">{{badgeText}}</span>{{#if stalled}} <span class="badge badge-stalled" title="No progress for {{stalledFor}}">stalled</span>{{/if}}</td>
<td data-label="Failure reason">{{#if reasonLabel}}<span class="reason" title="{{reason}}">{{reasonLabel}}</span>{{else}}<span class="muted">—</span>{{/if}}</td>
<td data-label="Progress">{{{progressHtml}}}{{#unless noItems}}<span class="progress-label">{{processedText}} / {{totalText}}</span>{{/unless}}</td>
<td data-label="Succeeded" class="num">{{succeededText}}</td>
<td data-label="Failed" class="num">{{failedText}}</td>
<td data-label="Skipped" class="num">{{skippedText}}</td>
<td data-label="Initiator">{{initiator}}</td>
<td data-label="Created"><time datetime="{{createdIso}}" title="{{createdExact}}">{{createdRel}}</time></td>
<td data-label="Duration" class="num">{{durationText}}</td>
</tr>{{/each}}`);

const squash = (html: string) => html.replace(/\n/g, '');

const HOSTILE = `<script>alert("x")</script>'&\`=`;

function row(over: Partial<RowText> = {}): RowText {
  return {
    id: 7,
    href: '/admin/t/contoso/operations/7',
    label: 'Inventory sync',
    type: 'inventory.sync',
    status: 'completed',
    target: null,
    reason: null,
    reasonLabel: null,
    noItems: false,
    initiator: 'System',
    badgeClass: 'succeeded',
    badgeText: 'Succeeded',
    progressHtml: '<svg class="progress"></svg>',
    processedText: '3',
    totalText: '3',
    succeededText: '3',
    failedText: '0',
    skippedText: '0',
    createdIso: '2026-12-02T10:00:00.000Z',
    createdExact: '2026-12-02 10:00:00 UTC',
    createdRel: '1 min ago',
    durationText: '2 s',
    ...over,
  };
}

describe('rowsHtml (the Operations list rows, built in code)', () => {
  it('writes the cells the template wrote, for any text in any field', () => {
    const text = fc.oneof(fc.string(), fc.constantFrom(HOSTILE, '', '0', '—', '&amp;'));
    const maybe = fc.option(text, { nil: null });
    fc.assert(
      fc.property(
        fc.record({
          id: fc.integer({ min: 1, max: 1e9 }),
          href: text,
          label: text,
          type: text,
          status: text,
          target: maybe,
          reason: maybe,
          reasonLabel: maybe,
          noItems: fc.boolean(),
          initiator: text,
          stalled: fc.boolean(),
          stalledFor: text,
          tenantSlug: text,
          tenantName: text,
          badgeClass: text,
          badgeText: text,
          processedText: text,
          totalText: text,
          failedText: text,
          createdExact: text,
          createdRel: text,
          durationText: text,
        }),
        fc.boolean(),
        fc.boolean(),
        (over, bulk, showTenant) => {
          const runs = [row(over), row()];
          const opts = { bulk, showTenant };
          expect(squash(rowsHtml(runs, opts))).toBe(squash(TEMPLATE_ROW({ runs, ...opts })));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("writes a kept row (an ended run's, around its relative time) as rowHtml writes the whole row", () => {
    const text = fc.oneof(fc.string(), fc.constantFrom(HOSTILE, '', '—', '&amp;'));
    fc.assert(
      fc.property(
        fc.record({
          label: text,
          target: fc.option(text, { nil: null }),
          initiator: text,
          createdExact: text,
        }),
        text,
        text,
        fc.boolean(),
        fc.boolean(),
        (over, before, after, bulk, showTenant) => {
          const opts = { bulk, showTenant };
          const [head, tail] = keptRow(row({ ...over, createdRel: before }), opts)!;
          // Kept with one relative time, written later with another: the rest of the row is the same.
          expect(head + escapeHtml(after) + tail).toBe(rowHtml(row({ ...over, createdRel: after }), opts));
        },
      ),
      { numRuns: 300 },
    );
    // A run's own text holding the stand-in mark is not kept (the row is then built each time).
    expect(keptRow(row({ target: '\u0000rel\u0000' }), { bulk: false, showTenant: false })).toBeNull();
  });

  it('escapes hostile text in every text cell and attribute', () => {
    const html = rowsHtml(
      [
        row({
          label: HOSTILE,
          type: HOSTILE,
          target: HOSTILE,
          status: HOSTILE,
          reason: HOSTILE,
          reasonLabel: HOSTILE,
          initiator: HOSTILE,
          stalled: true,
          stalledFor: HOSTILE,
          tenantName: HOSTILE,
          tenantSlug: HOSTILE,
        }),
      ],
      { bulk: true, showTenant: true },
    );
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('"x"');
    // label, type, target, status, reason (title and text), initiator, stalled, tenant name and slug
    expect(
      html.split('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#x27;&amp;&#x60;&#x3D;'),
    ).toHaveLength(11);
  });

  it('offers a box per row only where the list has bulk actions, and a tenant cell only across tenants', () => {
    const one = [row()];
    expect(rowsHtml(one, { bulk: false, showTenant: false })).not.toMatch(/select-box|data-label="Tenant"/);
    expect(rowsHtml(one, { bulk: true, showTenant: false })).toContain(
      '<input type="checkbox" class="select-box" name="run_ids" value="7" form="bulk-form" aria-label="Select run #7">',
    );
    expect(
      rowsHtml([row({ tenantSlug: 'fabrikam', tenantName: 'Fabrikam' })], { bulk: false, showTenant: true }),
    ).toContain('<td data-label="Tenant"><a href="/admin/t/fabrikam/operations">Fabrikam</a></td>');
    expect(rowsHtml([], { bulk: true, showTenant: true })).toBe('');
  });
});
