package notice

import (
	"fmt"

	"github.com/dsrdesk/dsrdesk/shared/config"
	"github.com/dsrdesk/dsrdesk/shared/deadline"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
)

// ForDeployment builds the Notices every function sends with, from the configuration they
// share, so the three cannot disagree about what a mail says about the controller.
func ForDeployment(c config.Common) (*Notices, error) {
	loc, err := deadline.Location(c.Country)
	if err != nil {
		return nil, fmt.Errorf("notice: %w", err)
	}
	lang, ok := i18n.Parse(c.DefaultLang)
	if !ok {
		return nil, fmt.Errorf("notice: default language %q", c.DefaultLang)
	}
	return New(Settings{
		Controller:   c.ControllerName,
		Country:      c.Country,
		BaseURL:      c.BaseURL,
		DPOAddresses: c.DPOAddresses,
		DefaultLang:  lang,
		Location:     loc,
	})
}
