// The navigation between screens: Secrets for everyone; Tokens, Audit and
// Settings for admins and superadmins (the server refuses members the same
// calls). A screen is a link to its #hash, so the browser's back button,
// a reload and the keyboard work as for any link.
import { $, element, show } from './dom.js';

const ADMIN = 100; // role priority of an admin

/**
 * @typedef {{open?: () => void, close?: () => void}} Screen
 * @typedef {{id: string, label: string, view: string, min: number}} ScreenInfo
 */

/** @type {ScreenInfo[]} */
export const SCREENS = [
  { id: 'secrets', label: 'Secrets', view: 'secrets-view', min: 0 },
  { id: 'tokens', label: 'Tokens', view: 'tokens-view', min: ADMIN },
  { id: 'audit', label: 'Audit', view: 'audit-view', min: ADMIN },
  { id: 'settings', label: 'Settings', view: 'settings-view', min: ADMIN },
];

const TITLE = document.title;

/**
 * navigation shows the screens the signed-in role may use and one of them
 * at a time.
 * @param {Record<string, Screen>} screens what to do when a screen opens or closes, by id
 */
export function navigation(screens) {
  const nav = $('nav');
  let me = null;
  let current = '';

  const allowed = () => SCREENS.filter((s) => (me?.role_priority ?? 0) >= s.min);

  function go(id, focus = false) {
    if (!me) return;
    const list = allowed();
    const screen = list.find((s) => s.id === id) || list[0];
    if (screen.id !== current) screens[current]?.close?.();
    for (const s of SCREENS) show($(s.view), s === screen);
    for (const a of nav.querySelectorAll('a')) {
      if (a.dataset.screen === screen.id) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    document.title = screen.id === 'secrets' ? TITLE : `${screen.label} · ${TITLE}`;
    const opened = screen.id !== current;
    current = screen.id;
    if (opened) screens[screen.id]?.open?.();
    if (focus) {
      const title = $(`${screen.id}-title`); // its heading, so a screen reader says where it is
      title.tabIndex = -1;
      title.focus();
    }
  }

  window.addEventListener('hashchange', () => {
    const id = location.hash.slice(1);
    if (SCREENS.some((s) => s.id === id)) go(id, true); // other anchors (the skip link) are not screens
  });

  return {
    /** enter builds the links for me's role and shows the screen the address names (or Secrets). */
    enter(signedIn) {
      me = signedIn;
      current = '';
      const list = allowed();
      nav.replaceChildren(element('ul', { class: 'nav-list' },
        ...list.map((s) => element('li', {}, element('a', { href: `#${s.id}`, 'data-screen': s.id }, s.label)))));
      show(nav, list.length > 1); // a member has one screen: nothing to navigate
      go(location.hash.slice(1) || 'secrets');
    },
    /** leave hides every screen but sign-in's and forgets the role. */
    leave() {
      screens[current]?.close?.();
      me = null;
      current = '';
      show(nav, false);
      nav.replaceChildren();
      for (const s of SCREENS) show($(s.view), false);
      document.title = TITLE;
    },
    get current() {
      return current;
    },
  };
}
