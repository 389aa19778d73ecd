// The colour theme: the system's (prefers-color-scheme) unless the person
// chose light or dark with the Theme control. The choice is remembered in
// localStorage under THEME_KEY; it is not a secret, and it is the only thing
// the page keeps there (the token stays in sessionStorage).
//
// The page's and the grid's colours follow <html data-theme="light|dark">:
// styles.css sets both from it (the grid through AG Grid's CSS variables), so
// no style is injected and the CSP needs no 'unsafe-inline'.

export const THEME_KEY = 'zwrm.theme';
const CHOICES = ['system', 'light', 'dark'];
const dark = window.matchMedia('(prefers-color-scheme: dark)');

function saved() {
  try {
    const v = localStorage.getItem(THEME_KEY);
    return CHOICES.includes(v ?? '') ? /** @type {string} */ (v) : 'system';
  } catch {
    return 'system'; // storage refused: follow the system
  }
}

/** apply sets the page's theme from a choice (system, light or dark). */
function apply(choice) {
  const theme = choice === 'system' ? (dark.matches ? 'dark' : 'light') : choice;
  document.documentElement.dataset.theme = theme;
  document.documentElement.dataset.themeChoice = choice;
}

/**
 * themeControl wires the Theme select: it shows the current choice, applies
 * and remembers a new one, and follows the system while the choice is system.
 * @param {HTMLSelectElement} select
 */
export function themeControl(select) {
  let choice = saved();
  select.value = choice;
  apply(choice);
  dark.addEventListener('change', () => apply(choice));
  select.addEventListener('change', () => {
    choice = CHOICES.includes(select.value) ? select.value : 'system';
    try {
      if (choice === 'system') localStorage.removeItem(THEME_KEY);
      else localStorage.setItem(THEME_KEY, choice);
    } catch {
      // not remembered; still applied to this page
    }
    apply(choice);
  });
}
