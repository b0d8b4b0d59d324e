/**
 * The toolbar's icons as inline SVG (the page may load nothing from elsewhere, and an icon font would be a
 * download of its own). Stroked in the current colour, 24-unit grid; purely decorative: controls carry text.
 */
export const ICON_PATHS = {
  logo: 'M6.5 17.5C9 11 13 8.5 17.5 6.5M4 17.5a2.5 2.5 0 1 0 5 0a2.5 2.5 0 1 0-5 0M15 6.5a2.5 2.5 0 1 0 5 0a2.5 2.5 0 1 0-5 0',
  info: 'M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18M12 16v-5M12 8h.01',
  example: 'M5 3h14a2 2 0 0 1 2 2v14a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2M3 16l5-5l4 4l3-3l6 6M15.5 8.5h.01',
  open: 'M12 15V3M7 8l5-5l5 5M21 15v4a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2v-4',
  swap: 'M8 3L4 7l4 4M4 7h16M16 21l4-4l-4-4M20 17H4',
  clear: 'M3 6h18M19 6v14a2 2 0 0 1-2 2H7a2 2 0 0 1-2-2V6M8 6V4a2 2 0 0 1 2-2h4a2 2 0 0 1 2 2v2M10 11v6M14 11v6',
  pointer: 'M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18M22 12h-4M6 12H2M12 6V2M12 22v-4',
  dense: 'M5 3h14a2 2 0 0 1 2 2v14a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2M3 9h18M3 15h18M9 3v18M15 3v18',
  settings: 'M4 6h10M18 6h2M4 12h4M12 12h8M4 18h12M20 18h0M14 4v4M8 10v4M16 16v4',
  gallery: 'M4 4h6v6H4zM14 4h6v6h-6zM4 14h6v6H4zM14 14h6v6h-6z',
  more: 'M5 12h.01M12 12h.01M19 12h.01',
  scales: 'M3 14h7v7H3zM13 10h8v11h-8zM3 3h4v4H3zM10 3h11v4H10z',
  download: 'M12 3v12M7 10l5 5l5-5M21 15v4a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2v-4',
} as const;
