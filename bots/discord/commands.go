package discord

import (
	"github.com/bwmarrin/discordgo"
)

// Commands are the slash commands, registered with one bulk overwrite. The
// /resources regions are fixed choices when they fit Discord's 25, and
// autocomplete otherwise.
func Commands(e Engine) []*discordgo.ApplicationCommand {
	// Servers and DMs with the bot; a server install only.
	contexts := []discordgo.InteractionContextType{discordgo.InteractionContextGuild, discordgo.InteractionContextBotDM}
	installs := []discordgo.ApplicationIntegrationType{discordgo.ApplicationIntegrationGuildInstall}
	str := func(name, desc string, required, auto bool) *discordgo.ApplicationCommandOption {
		return &discordgo.ApplicationCommandOption{
			Type: discordgo.ApplicationCommandOptionString, Name: name, Description: desc,
			Required: required, Autocomplete: auto,
			MaxLength: maxName, // a topic or region name; /ask raises it below
		}
	}
	question := str("question", "What you want to know, in your own words", true, false)
	question.MaxLength = 1000 // the engine reads no more (bots.MaxQuestion)

	region := str("region", "Country or region for the helplines", false, false)
	regions := e.Regions()
	if len(regions) <= maxChoices {
		for _, r := range regions {
			region.Choices = append(region.Choices, &discordgo.ApplicationCommandOptionChoice{Name: truncate(r.Label, maxName), Value: r.ID})
		}
	} else {
		region.Autocomplete = true
	}

	cmds := []*discordgo.ApplicationCommand{
		{Name: cmdAsk, Description: "Ask a question about kratom withdrawal or treatment", Options: []*discordgo.ApplicationCommandOption{question}},
		{Name: cmdSymptoms, Description: "Withdrawal symptoms and what helps", Options: []*discordgo.ApplicationCommandOption{
			str("symptom", "A symptom; leave empty for the list", false, true)}},
		{Name: cmdTreatment, Description: "Treatment and support, step by step", Options: []*discordgo.ApplicationCommandOption{
			str("step", "A step or kind of help; leave empty for the list", false, true)}},
		{Name: cmdFAQ, Description: "Common questions", Options: []*discordgo.ApplicationCommandOption{
			str("topic", "A question; leave empty for the list", false, true)}},
		{Name: cmdResources, Description: "Helplines and where to get professional help", Options: []*discordgo.ApplicationCommandOption{region}},
		{Name: cmdHelp, Description: "What this bot can do"},
		{Name: cmdPrivacy, Description: "How this bot handles your privacy"},
	}
	for _, c := range cmds {
		c.Type = discordgo.ChatApplicationCommand
		c.Contexts = &contexts
		c.IntegrationTypes = &installs
		if c.Options == nil {
			c.Options = []*discordgo.ApplicationCommandOption{}
		}
	}
	return cmds
}
