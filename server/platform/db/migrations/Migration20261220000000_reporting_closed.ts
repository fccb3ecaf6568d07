import { Migration } from '@mikro-orm/migrations';

/**
 * City reporting (issue 15): a treasurer's report may say the co-op closed (dissolved, wound up or
 * ceased trading) on a day. The latest report decides: a co-op stops counting in COOPS from the
 * month it closed and counts once in CLOSED that month.
 */
export class Migration20261220000000_reporting_closed extends Migration {
  override name = 'Migration20261220000000_reporting_closed';

  override up(): void {
    this.addSql('alter table reporting_profile add column closed_on date null check (closed_on <= as_of);');
  }
}
