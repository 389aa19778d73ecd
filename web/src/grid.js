// The secrets grid: AG Grid Community with only the modules it uses.
import {
  CellStyleModule,
  ClientSideRowModelModule,
  ColumnApiModule,
  ColumnAutoSizeModule,
  createGrid,
  DateFilterModule,
  EventApiModule,
  ModuleRegistry,
  QuickFilterModule,
  RowApiModule,
  RowAutoHeightModule,
  RowStyleModule,
  ScrollApiModule,
  TextFilterModule,
} from 'ag-grid-community';
import 'ag-grid-community/styles/ag-grid.css';
import 'ag-grid-community/styles/ag-theme-quartz.css';
import { copyButton } from './copy.js';
import { formatTime } from './dom.js';

ModuleRegistry.registerModules([
  ClientSideRowModelModule,
  TextFilterModule,
  DateFilterModule,
  QuickFilterModule,
  CellStyleModule,
  ColumnApiModule,
  ColumnAutoSizeModule,
  EventApiModule,
  RowApiModule,
  RowAutoHeightModule,
  RowStyleModule,
  ScrollApiModule,
]);

const yesNo = (env) => (p) => (p.data && p.data.environments[env] ? 'Yes' : 'No');
const envClass = { 'env-yes': (p) => p.value === 'Yes', 'env-no': (p) => p.value === 'No' };
const envCol = (env, headerName) => ({
  colId: env,
  headerName,
  valueGetter: yesNo(env),
  filter: 'agTextColumnFilter',
  flex: 1,
  minWidth: 78,
  maxWidth: 120,
  cellClassRules: envClass,
});

// Columns hidden on narrow screens, where Name and the three environments matter most.
const wide = ['description', 'owner', 'created'];

// The Layer column: at an app or machine, where each row comes from.
const sourceCol = {
  colId: 'source',
  headerName: 'Layer',
  valueGetter: (p) => (p.data ? p.data.source ?? '' : ''),
  flex: 2,
  minWidth: 150,
  filter: 'agTextColumnFilter',
  hide: true,
  cellClassRules: {
    'source-inherited': (p) => p.data?.origin === 'inherited',
    'source-overrides': (p) => !!p.data?.overrides,
  },
};

/**
 * @param {HTMLElement} el
 * @param {{open: (row: any) => void, counted: (shown: number, total: number) => void}} on
 */
export function secretsGrid(el, on) {
  let total = 0;
  let layered = false;
  const api = createGrid(el, {
    theme: 'legacy', // the bundled static CSS (ag-grid.css, ag-theme-quartz.css): no injected <style>, so the CSP needs no unsafe-inline
    columnDefs: [
      { colId: 'name', field: 'name', headerName: 'Name', sort: 'asc', flex: 2, minWidth: 130, cellClass: 'mono', filter: 'agTextColumnFilter', cellRenderer: nameCell },
      sourceCol,
      { colId: 'description', field: 'description', headerName: 'Description', flex: 3, minWidth: 160, filter: 'agTextColumnFilter' },
      envCol('development', 'Dev'),
      envCol('staging', 'Staging'),
      envCol('production', 'Prod'),
      { colId: 'owner', headerName: 'Owner', valueGetter: (p) => (p.data ? p.data.owner.name : ''), flex: 1, minWidth: 120, filter: 'agTextColumnFilter' },
      {
        colId: 'created',
        headerName: 'Created',
        valueGetter: (p) => (p.data && p.data.created_at ? new Date(p.data.created_at) : null),
        valueFormatter: (p) => (p.value ? formatTime(p.value.toISOString()) : ''),
        getQuickFilterText: (p) => (p.value ? formatTime(p.value.toISOString()) : ''),
        filter: 'agDateColumnFilter',
        filterParams: { comparator: compareDay },
        width: 180,
        minWidth: 150,
      },
    ],
    defaultColDef: { sortable: true, resizable: true, filter: true },
    rowData: [],
    getRowId: (p) => p.data.id,
    // Inherited rows come from a lower layer: shown, but secondary.
    rowClassRules: { 'row-inherited': (p) => p.data?.origin === 'inherited' },
    rowHeight: 44,
    headerHeight: 44,
    animateRows: false,
    ensureDomOrder: true,
    // Cell text can be selected and copied: a click that ends a selection,
    // or that copies a name, does not open the row.
    enableCellTextSelection: true,
    onRowClicked: (e) => {
      const target = /** @type {Element | null} */ (e.event?.target ?? null);
      if (!e.data || target?.closest?.('.copy-name') || String(window.getSelection() ?? '') !== '') return;
      on.open(e.data);
    },
    onCellKeyDown: (e) => {
      const ev = /** @type {KeyboardEvent} */ (e.event);
      if (ev && ev.key === 'Enter' && e.data) {
        ev.preventDefault();
        on.open(e.data);
      }
    },
    onModelUpdated: () => on.counted(api.getDisplayedRowCount(), total),
  });

  uncut(api);

  const narrow = window.matchMedia('(max-width: 700px)');
  const fit = () => {
    api.setColumnsVisible(wide, !narrow.matches);
    api.setColumnsVisible(['source'], layered && !narrow.matches);
  };
  narrow.addEventListener('change', fit);
  fit();

  return {
    /** set replaces the rows; layered shows the Layer column (at an app or machine). */
    set(rows, isLayered = false) {
      if (isLayered !== layered) {
        layered = isLayered;
        fit();
      }
      total = rows.length;
      api.setGridOption('rowData', rows);
      on.counted(api.getDisplayedRowCount(), total);
    },
    search(text) {
      api.setGridOption('quickFilterText', text);
    },
    /** focusRow puts keyboard focus back on a row (after a dialog closes). */
    focusRow(id) {
      const node = id ? api.getRowNode(id) : null;
      const col = api.getFocusedCell()?.column ?? 'name';
      if (node && node.rowIndex != null) {
        api.ensureIndexVisible(node.rowIndex);
        api.setFocusedCell(node.rowIndex, col);
        return true;
      }
      return false;
    },
  };
}

// nameCell is a name and its copy button ("Copy name NAME").
function nameCell(p) {
  const wrap = document.createElement('span');
  wrap.className = 'name-cell';
  const text = document.createElement('span');
  text.className = 'name-text';
  text.textContent = p.value ?? '';
  wrap.append(text);
  if (p.value) wrap.append(copyButton(p.value));
  return wrap;
}

// Date filter: compare a row's timestamp by calendar day.
function compareDay(filterDate, cellValue) {
  if (!cellValue) return -1;
  const day = new Date(cellValue.getFullYear(), cellValue.getMonth(), cellValue.getDate()).getTime();
  return day < filterDate.getTime() ? -1 : day > filterDate.getTime() ? 1 : 0;
}

// ---- layout: no name, owner or heading is cut ----------------------------
// A long name wraps onto more lines and its row grows to fit, rather than
// ending in "…" (at 390 px above all); Owner is as wide as its longest name;
// the Yes/No columns keep room for their headings and filter buttons, but on
// a phone (where styles.css hides those buttons). Applied to the column
// definitions as they are, so that the columns stay defined in one place above.
const ENV_COLS = ['development', 'staging', 'production'];
function uncut(api) {
  const phone = window.matchMedia('(max-width: 700px)');
  const fitDefs = () => api.setGridOption('columnDefs', api.getColumnDefs().map((d) => {
    const id = /** @type {any} */ (d).colId;
    if (id === 'name' || id === 'source' || id === 'description') return { ...d, wrapText: true, autoHeight: true };
    if (ENV_COLS.includes(id)) return { ...d, minWidth: phone.matches ? 78 : 104 };
    return d;
  }));
  fitDefs();
  phone.addEventListener('change', fitDefs);
  const fitOwner = () => {
    if (api.getColumn('owner')?.isVisible()) api.autoSizeColumns(['owner']);
  };
  api.addEventListener('rowDataUpdated', fitOwner);
  api.addEventListener('columnVisible', fitOwner);
}
