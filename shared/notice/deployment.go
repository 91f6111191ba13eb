package notice

import "github.com/dsrdesk/dsrdesk/shared/config"

// ForDeployment builds the Notices every function sends with, from the configuration they
// share, so the three cannot disagree about what a mail says about the controller.
func ForDeployment(c config.Common) (*Notices, error) {
	return New(Settings{
		Controller:   c.ControllerName,
		Country:      c.Calendar.Country(),
		BaseURL:      c.BaseURL,
		DPOAddresses: c.DPOAddresses,
		DefaultLang:  c.DefaultLang,
		Location:     c.Calendar.Location(),

		InboundAddress: c.InboundAddress,
	})
}

// DeploymentMailer is the Mailer every function sends with: from the deployment's sender,
// with its SES configuration set, whose bounces and complaints come back to the desk.
func DeploymentMailer(c SES, cfg config.Common) *Mailer {
	m := NewMailer(c, cfg.Sender)
	m.configurationSet = cfg.MailConfigurationSet
	return m
}
